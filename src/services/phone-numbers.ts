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
  if (!phoneNumberSyntax.test(text)) throw new BadRequest(`${name}: "${text}" is not a phone number: ${expected}`);
  const number = phoneNumberOrUndefined(text);
  if (number === undefined) throw new BadRequest(`${name}: "${text}" is not a valid phone number: ${expected}`);
  return number;
}

/** The same number as parsePhoneNumber gives, or undefined for anything that is not one. */
export function phoneNumberOrUndefined(text: string): string | undefined {
  const match = phoneNumberSyntax.exec(text);
  if (!match) return undefined;
  const [, plus, digits] = match as unknown as [string, string, string];
  const parsed = parsePhoneNumberFromString(`+${!plus && digits.length === 10 ? `1${digits}` : digits}`);
  return parsed?.isValid() ? parsed.number.slice(1) : undefined;
}

const phoneNumberSyntax = /^(\+?)(\d{1,15})$/;
