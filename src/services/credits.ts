import { BadRequest } from "../errors.js";

// Credits are exact decimals with at most 4 places (CallFire shows "2015.0000"). They are stored
// and summed as integers of ten-thousandths ("units"), and become JSON numbers only at the edge:
// units / 10000 is the double nearest the decimal, which JSON prints with ≤ 4 decimals.

export const unitsPerCredit = 10_000;

/** Any one amount, plan value or charge; keeps every sum we make far below 2^53 units. */
export const maxCredits = 1_000_000_000;

export function creditsToNumber(units: number): number {
  return units / unitsPerCredit;
}

/**
 * A JSON number of credits as units. A value with more than 4 decimals would have to be rounded,
 * and the ledger would no longer add up to what was asked: refuse it instead.
 */
export function creditsToUnits(value: number, field: string, range: { min: number; max: number }): number {
  if (!Number.isFinite(value)) throw new BadRequest(`${field}: must be a number`);
  const units = Math.round(value * unitsPerCredit);
  if (units / unitsPerCredit !== value) throw new BadRequest(`${field}: ${value} has more than 4 decimal places`);
  if (value < range.min || value > range.max) throw new BadRequest(`${field}: must be from ${range.min} to ${range.max}`);
  return units;
}
