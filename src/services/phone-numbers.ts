import { parsePhoneNumberFromString } from "libphonenumber-js";
import { BadRequest } from "../errors.js";

const expected = "expected E.164 digits with or without +, such as 12135551189 or +442079460958 (a bare 10-digit number is North American)";

/**
 * A caller ID as CallFire stores and returns it: E.164 digits without "+". Digits only, with an
 * optional "+": formatted numbers ("+44 20 7946 0958") are refused rather than guessed at. Bare
 * digits are E.164 too, except a 10-digit number, which is North American as in CallFire's
 * examples; so every number this returns can be sent back as it is.
 */
export function parsePhoneNumber(text: string, name = "callerid"): string {
  const match = /^(\+?)(\d{1,15})$/.exec(text);
  if (!match) throw new BadRequest(`${name}: "${text}" is not a phone number: ${expected}`);
  const [, plus, digits] = match as unknown as [string, string, string];
  const parsed = parsePhoneNumberFromString(`+${!plus && digits.length === 10 ? `1${digits}` : digits}`);
  if (!parsed?.isValid()) throw new BadRequest(`${name}: "${text}" is not a valid phone number: ${expected}`);
  return parsed.number.slice(1);
}
