import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from "chart.js";
import { useEffect, useRef } from "preact/hooks";
import { get } from "../api.js";
import { ErrorText, Loading } from "../components.js";
import { formatCreditAmount, formatCredits, formatDateTime, formatUtcDay } from "../format.js";
import { useResource } from "../hooks.js";
import { PageFrame } from "../page-frame.js";
import { useSessionInfo } from "../session.js";
import type { Account, CreditUsage, Plan, PlanUsage } from "../types.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

export function Overview() {
  const session = useSessionInfo();
  const account = useResource(() => get<Account>("/v2/me/account"), []);
  const planUsage = useResource(() => Promise.all([get<PlanUsage>("/v2/me/billing/plan-usage"), get<Plan>("/console/api/billing/plan")]), []);
  const daily = useResource(() => get<{ items: CreditUsage[] }>("/console/api/billing/daily-credit-usage"), []);

  return (
    <PageFrame title="Overview">
      <div class="grid">
        <section class="card" aria-labelledby="account-title">
          <h2 id="account-title">Account</h2>
          {account.data ? (
            <dl class="facts">
              <dt>Name</dt>
              <dd>{account.data.name ?? ([account.data.firstName, account.data.lastName].filter(Boolean).join(" ") || "—")}</dd>
              <dt>Email</dt>
              <dd>{account.data.email}</dd>
              <dt>Account id</dt>
              <dd>{account.data.id}</dd>
              <dt>Signed in until</dt>
              <dd>{formatDateTime(session.expiresAt)}</dd>
            </dl>
          ) : account.loading ? (
            <Loading label="Loading the account…" />
          ) : null}
          <ErrorText error={account.error} />
        </section>

        <section class="card" aria-labelledby="plan-title">
          <h2 id="plan-title">Plan usage this month</h2>
          {planUsage.data ? <PlanGauge usage={planUsage.data[0]} plan={planUsage.data[1]} /> : planUsage.loading ? <Loading label="Loading the plan…" /> : null}
          <ErrorText error={planUsage.error} />
        </section>
      </div>

      <section class="card chart-card" aria-labelledby="usage-title">
        <h2 id="usage-title">Credit usage, last 30 days</h2>
        {daily.data ? <UsageChart days={daily.data.items} /> : daily.loading ? <Loading label="Loading the usage…" /> : null}
        <ErrorText error={daily.error} />
      </section>
    </PageFrame>
  );
}

function PlanGauge({ usage, plan }: { usage: PlanUsage; plan: Plan }) {
  const payAsYouGo = usage.remainingPayAsYouGoCredits;
  return (
    <>
      <p>
        <strong>{plan.name}</strong>
        <span class="muted">
          {" "}
          · {formatCreditAmount(plan.creditsPerCallMinute)} a call minute, {formatCreditAmount(plan.creditsPerText)} a text
        </span>
      </p>
      {plan.monthlyCredits > 0 ? (
        <div class="field">
          <label for="plan-credits-left">Plan credits left</label>
          <meter id="plan-credits-left" min={0} max={plan.monthlyCredits} low={plan.monthlyCredits * 0.2} high={plan.monthlyCredits * 0.5} optimum={plan.monthlyCredits} value={usage.remainingPlanCredits}>
            {formatCredits(usage.remainingPlanCredits)} of {formatCredits(plan.monthlyCredits)}
          </meter>
          <p class="muted">
            {formatCredits(usage.remainingPlanCredits)} of {formatCredits(plan.monthlyCredits)} left, until{" "}
            {formatDateTime(usage.intervalEnd + 1)}
          </p>
        </div>
      ) : (
        <p class="muted">This plan has no monthly credits: all usage is paid from pay-as-you-go credits.</p>
      )}
      <dl class="facts">
        <dt>Pay-as-you-go balance</dt>
        <dd class={payAsYouGo < 0 ? "negative" : undefined}>
          {formatCreditAmount(payAsYouGo)}{payAsYouGo < 0 ? " (below zero: usage ran past the credits)" : ""}
        </dd>
        <dt>Total left</dt>
        <dd>{formatCreditAmount(usage.totalRemainingCredits)}</dd>
      </dl>
    </>
  );
}

const series = [
  { key: "callsDurationMinutes", label: "Call minutes", color: "#2b6cb0" },
  { key: "textsSent", label: "Texts", color: "#38a169" },
  { key: "creditsUsed", label: "Credits", color: "#dd6b20" },
] as const;

function UsageChart({ days }: { days: CreditUsage[] }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const chart = new Chart(canvas.current!, {
      type: "bar",
      data: {
        labels: days.map((day) => formatUtcDay(day.intervalBegin)),
        datasets: series.map(({ key, label, color }) => ({ label, data: days.map((day) => day[key]), backgroundColor: color })),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: { x: { ticks: { maxRotation: 0, autoSkipPadding: 8 } }, y: { beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: "bottom" } },
      },
    });
    return () => chart.destroy();
  }, [days]);

  const totals = series.map(({ key, label }) => `${formatCredits(days.reduce((sum, day) => sum + day[key], 0))} ${label.toLowerCase()}`);
  return (
    <>
      <p class="muted">Per UTC day, from the usage ledger. Totals: {totals.join(", ")}.</p>
      <div class="chart">
        <canvas ref={canvas} role="img" aria-label={`Bar chart of credit usage per day over the last 30 days; totals: ${totals.join(", ")}`} />
      </div>
      <details>
        <summary>The numbers, day by day</summary>
        <div class="table-scroll">
          <table>
            <caption class="visually-hidden">Credit usage per UTC day</caption>
            <thead>
              <tr>
                <th scope="col">Day (UTC)</th>
                {series.map(({ label }) => (
                  <th scope="col" key={label}>
                    {label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {days.map((day) => (
                <tr key={day.intervalBegin}>
                  <th scope="row">{formatUtcDay(day.intervalBegin)}</th>
                  {series.map(({ key }) => (
                    <td key={key}>{formatCredits(day[key])}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </>
  );
}
