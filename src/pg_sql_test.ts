import assert from "node:assert/strict";
import { compileFilter, timestampParam } from "./filter_sql.ts";
import { type PutParam, statements } from "./pg_sql.ts";
import { namedStatement, whereClause } from "./sql_params.ts";
import { HephError } from "./errors.ts";

const TABLE = '"t".workflow_instances';

/** The `$n` placeholders a text uses, in order of first appearance. */
function placeholders(text: string): string[] {
  return [...new Set(text.match(/\$\d+/g) ?? [])];
}

Deno.test("compileFilter returns one condition per filter key, numbered in order, with its parameters", () => {
  const compiled = compileFilter({
    id: "order::1",
    idPrefix: "order::",
    statusIn: ["pending", "running"],
    workflow: "Shop.Order",
    workflowVersion: 2,
    updatedBefore: new Date("2024-05-01T00:00:00Z"),
  });
  assert.deepEqual(compiled.conditions, [
    "w.id = $1",
    "w.id LIKE $2 ESCAPE E'\\\\'",
    "w.status IN ($3, $4)",
    "w.workflow = $5",
    "w.workflow_version = $6::integer",
    "w.updated_at < $7::text::timestamptz",
  ]);
  assert.deepEqual(compiled.params, [
    "order::1",
    "order::%",
    "pending",
    "running",
    "Shop.Order",
    2,
    "2024-05-01T00:00:00.000Z",
  ]);
});

Deno.test("compileFilter of no key has no condition, and whereClause makes no WHERE of it", () => {
  const compiled = compileFilter({});
  assert.deepEqual(compiled.conditions, []);
  assert.deepEqual(compiled.params, []);
  assert.equal(whereClause(compiled.conditions), "");
  assert.equal(whereClause(["a", "b"]), "WHERE a AND b");
});

Deno.test("compileFilter escapes LIKE patterns, matches nothing for an empty statusIn, and casts containment", () => {
  const compiled = compileFilter({
    workflowFamily: "Shop_50%\\",
    statusIn: [],
    contextDocument: { initial: { order_id: 1 } },
  });
  assert.deepEqual(compiled.conditions, [
    "false",
    "w.workflow LIKE $1 ESCAPE E'\\\\'",
    "(w.state -> 'context') @> $2::text::jsonb",
  ]);
  assert.deepEqual(compiled.params, ["Shop\\_50\\%\\\\%", '{"initial":{"order_id":1}}']);
});

Deno.test("bind continues the numbering after the filter's parameters", () => {
  const compiled = compileFilter({ status: "running" });
  assert.equal(compiled.bind("worker-a"), "$2");
  assert.equal(compiled.bind(30_000), "$3");
  assert.deepEqual(compiled.params, ["running", "worker-a", 30_000]);
});

Deno.test("the claim statement joins the filter's conditions with its own, on every kind of table", () => {
  for (const distributed of [false, true]) {
    const sql = statements(TABLE, distributed);
    const compiled = compileFilter({ workflow: "W" });
    const text = sql.claim(compiled.conditions, "$2", "$3", "$4");
    assert.match(text, /WHERE w\.workflow = \$1 AND \(w\.lease_expires_at IS NULL/);
    assert.doesNotMatch(text, /WHERE\s+AND|AND\s+AND|WHERE\s+WHERE/);
    // Citus re-checks the candidates in the update: the same conditions again.
    assert.equal(text.split("w.workflow = $1").length - 1, distributed ? 2 : 1);
    const unfiltered = sql.claim([], "$1", "$2", "$3");
    assert.match(unfiltered, /FROM "t"\.workflow_instances w WHERE \(w\.lease_expires_at IS NULL/);
    assert.doesNotMatch(unfiltered, /WHERE\s+AND|AND\s+AND/);
  }
});

Deno.test("put's statements take their parameters by name, in the order their placeholders number them", () => {
  const values: { [K in PutParam]: unknown } = {
    id: "order::1",
    workflow: "Shop.Order",
    workflowVersion: 3,
    status: "running",
    state: "{}",
    owner: "worker-a",
    revision: 7,
  };
  for (const distributed of [false, true]) {
    const sql = statements(TABLE, distributed);
    const expected: [keyof typeof sql, PutParam[]][] = [
      ["upsert", ["id", "workflow", "workflowVersion", "status", "state"]],
      ["upsertAsOwner", ["id", "workflow", "workflowVersion", "status", "state", "owner"]],
      ["insert", ["id", "workflow", "workflowVersion", "status", "state"]],
      // An update keeps the stored workflow version.
      ["update", ["workflow", "status", "state", "id", "revision"]],
      ["updateAsOwner", ["workflow", "status", "state", "id", "revision", "owner"]],
    ];
    for (const [key, names] of expected) {
      const statement = sql[key] as ReturnType<typeof namedStatement<PutParam>>;
      assert.deepEqual(statement.names, names, `${key} (distributed: ${distributed})`);
      assert.deepEqual(statement.params(values), names.map((name) => values[name]), key);
      assert.deepEqual(
        placeholders(statement.text),
        names.map((_, i) => `$${i + 1}`),
        `${key}: every placeholder has a value, in order`,
      );
    }
  }
});

Deno.test("a named statement numbers names by first use, reuses them, and refuses a missing value", () => {
  const statement = namedStatement<"a" | "b">((p) => `SELECT ${p("b")}, ${p("a")}, ${p("b")}`);
  assert.equal(statement.text, "SELECT $1, $2, $1");
  assert.deepEqual(statement.names, ["b", "a"]);
  assert.deepEqual(statement.params({ a: 1, b: null }), [null, 1]);
  assert.throws(
    () => statement.params({ a: 1, b: undefined }),
    (error: unknown) =>
      error instanceof HephError &&
      error.message === "Missing statement parameter: b has no value",
  );
  assert.ok(Object.isFrozen(statement) && Object.isFrozen(statement.names));
});

Deno.test("the lease and prune statements name their parameters", () => {
  const sql = statements(TABLE);
  assert.deepEqual(sql.renew.names, ["leaseMs", "id", "owner"]);
  assert.deepEqual(sql.release.names, ["id", "owner"]);
  assert.deepEqual(sql.releaseMany.names, ["ids", "owner"]);
  assert.deepEqual(sql.prune.names, ["statuses", "before", "limit"]);
  assert.deepEqual(sql.get.params({ id: "order::1" }), ["order::1"]);
  assert.deepEqual(placeholders(sql.prune.text), ["$1", "$2", "$3"]);
});

Deno.test("timestampParam writes every Date PostgreSQL's way", () => {
  assert.equal(timestampParam(new Date("2024-05-01T12:00:00.123Z")), "2024-05-01T12:00:00.123Z");
  assert.equal(timestampParam(new Date("+010000-01-01T00:00:00Z")), "10000-01-01T00:00:00.000Z");
  assert.equal(timestampParam(new Date("-000043-03-15T00:00:00Z")), "0044-03-15T00:00:00.000Z BC");
  assert.equal(timestampParam(new Date(-8.64e15)), "-infinity");
});
