// What the console shows beside CallFire's results of calls and texts, and what the sandbox
// simulator does with a number (the README's table, src/delivery/simulator.ts). The names
// themselves are the server's (src/common/action-names.ts).

export { callResults, textResults, voices } from "../../../../src/common/action-names.js";

/** The states a call or text of ours goes through; CallFire names others, which match nothing here. */
export const actionStates = ["READY", "SELECTED", "FINISHED"] as const;

const words: Record<string, string> = {
  LA: "live answer",
  AM: "answering machine",
  BUSY: "busy",
  DNC: "do not call",
  XFER: "transferred",
  NO_ANS: "no answer",
  XFER_LEG: "transfer leg",
  INTERNAL_ERROR: "internal error",
  CARRIER_ERROR: "carrier error",
  CARRIER_TEMP_ERROR: "temporary carrier error",
  UNDIALED: "not placed: the platform never took it",
  SD: "skipped: duplicate",
  POSTPONED: "postponed",
  ABANDONED: "abandoned",
  SKIPPED: "skipped",
  DNT: "do not text",
  TOO_BIG: "too big",
  READY: "queued for the platform",
  SELECTED: "taken by the platform",
  FINISHED: "its outcome is known",
};

export const meaningOf = (code: string): string | undefined => words[code];
/** `LA (live answer)`: the code the API returns, and what it means. */
export const describe = (code: string) => (words[code] ? `${code} (${words[code]})` : code);

/** How the simulator ends a call or text, by the number's last four digits. */
export const sandboxCallNumbers: Array<[string, string]> = [
  ["…0001", "BUSY, 0 s"],
  ["…0002", "NO_ANS, 0 s"],
  ["…0003", "AM: the machine message is played"],
  ["…0004", "CARRIER_ERROR, 0 s"],
  ["anything else", "LA: the message is played"],
];

export const sandboxTextNumbers: Array<[string, string]> = [
  ["…0001", "CARRIER_ERROR, charged nothing"],
  ["anything else", "SENT"],
];
