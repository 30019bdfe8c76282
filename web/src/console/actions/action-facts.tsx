import { formatDateTime } from "../format.js";
import type { Call, Text } from "../types.js";
import { describe } from "./results.js";

/** What calls and texts share, as a list of facts. */
export function ActionFacts({ action, result }: { action: Call | Text; result?: string }) {
  const attributes = Object.entries(action.attributes ?? {});
  return (
    <dl class="facts">
      <dt>State</dt>
      <dd>{action.state ? describe(action.state) : "—"}</dd>
      <dt>Result</dt>
      <dd>{result ? describe(result) : "— (not finished)"}</dd>
      <dt>From</dt>
      <dd class="mono">{action.fromNumber ?? "—"}</dd>
      <dt>To</dt>
      <dd class="mono">{action.toNumber ?? "—"}</dd>
      <dt>Direction</dt>
      <dd>{action.inbound ? "inbound" : "outbound"}</dd>
      <dt>Created</dt>
      <dd>{action.created ? formatDateTime(action.created) : "—"}</dd>
      <dt>Batch</dt>
      <dd>{action.batchId ?? "— (ingested by the operator)"}</dd>
      {action.campaignId !== undefined && (
        <>
          <dt>Campaign id</dt>
          <dd>{action.campaignId}</dd>
        </>
      )}
      {(action.labels ?? []).length > 0 && (
        <>
          <dt>Labels</dt>
          <dd>{action.labels!.join(", ")}</dd>
        </>
      )}
      {attributes.length > 0 && (
        <>
          <dt>Attributes</dt>
          <dd>{attributes.map(([name, value]) => `${name}=${value}`).join(", ")}</dd>
        </>
      )}
    </dl>
  );
}
