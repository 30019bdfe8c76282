import { BadRequest } from "../errors.js";

// CallFire's partial responses: `fields=id,items(id,agents(id)),totalCount`. Only the listed keys
// survive at each level; a sub-selection applies to an object or to every element of an array;
// unknown names are ignored.

export type FieldSelection = Map<string, FieldSelection | true>;

export function parseFields(text: string): FieldSelection {
  let position = 0;

  const fail = (why: string): never => {
    const where = position < text.length ? `at position ${position + 1}` : "at the end";
    throw new BadRequest(`fields: ${why} ${where} of "${text}"`);
  };
  const skipSpaces = () => {
    while (position < text.length && /\s/.test(text[position]!)) position++;
  };

  const parseList = (depth: number): FieldSelection => {
    const selection: FieldSelection = new Map();
    for (;;) {
      skipSpaces();
      const start = position;
      while (position < text.length && !/[\s,()]/.test(text[position]!)) position++;
      const name = text.slice(start, position);
      if (name === "") fail("expected a field name");
      skipSpaces();
      if (text[position] === "(") {
        position++;
        const inner = parseList(depth + 1);
        if (text[position] !== ")") fail("expected ')'");
        position++;
        skipSpaces();
        selection.set(name, inner);
      } else {
        selection.set(name, true);
      }
      if (text[position] === ",") {
        position++;
        continue;
      }
      if (position === text.length || (text[position] === ")" && depth > 0)) return selection;
      fail(`unexpected '${text[position]}'`);
    }
  };

  return parseList(0);
}

export function projectFields(value: unknown, selection: FieldSelection): unknown {
  if (Array.isArray(value)) return value.map((item) => projectFields(item, selection));
  if (value === null || typeof value !== "object") return value;
  const projected: Record<string, unknown> = {};
  for (const [name, inner] of selection) {
    if (!Object.hasOwn(value, name)) continue;
    const field = (value as Record<string, unknown>)[name];
    projected[name] = inner === true ? field : projectFields(field, inner);
  }
  return projected;
}
