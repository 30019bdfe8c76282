const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const day = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
const credits = new Intl.NumberFormat(undefined, { maximumFractionDigits: 4 });

export const formatDateTime = (ms: number) => dateTime.format(ms);
/** Usage days are UTC days, as the ledger counts them. */
export const formatUtcDay = (ms: number) => day.format(ms);
export const formatCredits = (value: number) => credits.format(value);
/** "1 credit", "12.5 credits". */
export const formatCreditAmount = (value: number) => `${credits.format(value)} credit${value === 1 ? "" : "s"}`;

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

const count = new Intl.NumberFormat(undefined);

export const formatCount = (value: number) => count.format(value);
/** A list's totalCount: CallFire's pages say -1 when they did not count (here: beyond 10,000 matches). */
export const formatTotal = (total: number) => (total < 0 ? "more than 10,000" : count.format(total));
