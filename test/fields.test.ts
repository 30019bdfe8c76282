import { describe, expect, it } from "vitest";
import { BadRequest } from "../src/errors.js";
import { parseFields, projectFields } from "../src/http/fields.js";

const page = {
  items: [
    { id: 1, name: "a", agents: [{ id: 7, name: "x" }], extra: true },
    { id: 2, name: "b", agents: [], extra: false },
  ],
  limit: 100,
  offset: 0,
  totalCount: 2,
};

describe("fields (partial responses)", () => {
  it.each([
    ["id", { id: 1 }],
    ["limit,totalCount", { limit: 100, totalCount: 2 }],
    ["items(id,name),totalCount", { items: [{ id: 1, name: "a" }, { id: 2, name: "b" }], totalCount: 2 }],
    ["items(id,agents(id))", { items: [{ id: 1, agents: [{ id: 7 }] }, { id: 2, agents: [] }] }],
    [" items ( id ) , offset ", { items: [{ id: 1 }, { id: 2 }], offset: 0 }],
    ["nothing,limit", { limit: 100 }],
    ["items(nothing)", { items: [{}, {}] }],
  ])("%s", (fields, expected) => {
    const source = fields === "id" ? { id: 1, name: "a" } : page;
    expect(projectFields(source, parseFields(fields))).toEqual(expected);
  });

  it("applies a sub-selection to a plain object", () => {
    expect(projectFields({ a: { b: 1, c: 2 }, d: 3 }, parseFields("a(b)"))).toEqual({ a: { b: 1 } });
  });

  it.each(["", "a,", ",a", "a(", "a()", "a(b))", "a)b", "a(b,,c)", "a b"])("rejects %j", (fields) => {
    expect(() => parseFields(fields)).toThrow(BadRequest);
  });
});
