// An ErrorMessage names the field it is about first: `toNumber: …` (a service's rule),
// `query parameter batchId: …` and `body 0.voice: …` (the schema), `body[0].phoneNumber: …` (a
// recipient's rule). A form shows the error at the control of that field, else at its button.

const fieldName = /^(?:query parameter |body(?:\[\d+\]| \d+)\.)?([A-Za-z]+)\b/;

/** Which of `fields` the error is about, if it names one of them. */
export function fieldOfError<F extends string>(error: string | undefined, fields: readonly F[]): F | undefined {
  const name = error === undefined ? undefined : fieldName.exec(error)?.[1];
  return fields.find((field) => field === name);
}

/** The ARIA of a control whose field the error may be about; `describedBy` are its hints. */
export function invalidIf(invalid: boolean, errorId: string, describedBy?: string) {
  const ids = [describedBy, invalid ? errorId : undefined].filter(Boolean).join(" ");
  return { "aria-invalid": invalid ? (true as const) : undefined, "aria-describedby": ids || undefined };
}
