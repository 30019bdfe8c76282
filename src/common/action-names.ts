// CallFire's names for the states and results of calls and texts, and its voices. The server and
// the console's pages both use them; the pages cannot import src/services/actions.ts (it brings
// the database layer into their bundle), so the names live here, in a module that imports nothing.

/** Every state CallFire names; ours are READY, SELECTED and FINISHED (the others filter to nothing). */
export const actionStates = ["READY", "SELECTED", "CALLBACK", "FINISHED", "DISABLED", "DNC", "DUP", "INVALID", "TIMEOUT", "PERIOD_LIMIT"] as const;

export const callResults = [
  "LA",
  "AM",
  "BUSY",
  "DNC",
  "XFER",
  "NO_ANS",
  "XFER_LEG",
  "INTERNAL_ERROR",
  "CARRIER_ERROR",
  "CARRIER_TEMP_ERROR",
  "UNDIALED",
  "SD",
  "POSTPONED",
  "ABANDONED",
  "SKIPPED",
] as const;
export type CallResult = (typeof callResults)[number];

export const textResults = ["SENT", "RECEIVED", "DNT", "TOO_BIG", "INTERNAL_ERROR", "CARRIER_ERROR", "CARRIER_TEMP_ERROR", "UNDIALED"] as const;
export type TextResult = (typeof textResults)[number];

export const voices = ["MALE1", "FEMALE1", "FEMALE2", "SPANISH1", "FRENCHCANADIAN1"] as const;
export type Voice = (typeof voices)[number];
