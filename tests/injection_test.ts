/**
 * Injection: payloads that try to end a literal, an identifier or a statement, or to widen a
 * LIKE, in every string that reaches SQL: ids, workflow names, keys, step names, filters, lease
 * owners, cursors, schema and role names. Each test checks one way in; each ends by checking
 * that no other row, tenant, table or schema changed and that no payload reached the SQL text.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  DatabaseError,
  grantRuntimeAccess,
  type InstanceFilter,
  MemoryStorage,
  migrate,
  migrationStatus,
  newInstance,
  PgStorage,
  ValidationError,
  type WorkflowInstance,
} from "../mod.ts";
import { withoutBookkeeping } from "../testing/storage_conformance.ts";
import {
  defineAll,
  encodeCursor,
  type HostileSchema,
  ids,
  outcome,
  PAYLOADS,
  recordingStorage,
  refusedOrRan,
  withHostileSchema,
} from "./support/hostile_input.ts";

/** A schema with canaries around it, and the stores a test sends payloads through. */
interface Canaries extends HostileSchema {
  /** PgStorage on the schema; every SQL text it sends is checked for payloads at the end. */
  storage: PgStorage;
  /** The reference: what `storage` should select, given the same writes. */
  memory: MemoryStorage;
}

/**
 * Runs `body` among canaries — a table of our own, an instance, another tenant's schema, a
 * bystander schema — then checks that they are as they were, that every payload row was
 * deleted, and that no payload reached the SQL text.
 */
function withCanaries(prefix: string, body: (c: Canaries) => Promise<void>): Promise<void> {
  return withHostileSchema(prefix, async (db) => {
    const { driver, raw, schema } = db;
    const tenant = `${schema}_tenant`;
    const bystander = `${schema}_bystander`;
    try {
      await migrate(driver, { schema: tenant });
      await raw(`CREATE TABLE "${schema}".canary (note text)`);
      await raw(`INSERT INTO "${schema}".canary VALUES ('intact')`);
      const { storage, sent } = recordingStorage(driver, schema);
      const other = new PgStorage({ driver, schema: tenant });
      const canary = newInstance({ id: "canary", workflow: "Canary", initial: { alive: true } });
      await storage.put(canary);
      await other.put(canary);
      const memory = new MemoryStorage();
      await memory.put(canary);
      // Our own objects only: other test runs create and drop schemas in this database meanwhile
      // (each with a canary of its own). A payload names `canary` unqualified: that is
      // public.canary on the default search_path, which no test creates.
      const catalog = async () =>
        (await raw(
          `SELECT n.nspname || '.' || c.relname AS name FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE (n.nspname IN ($1, $2) OR (n.nspname = 'public' AND c.relname = 'canary'))
            AND c.relkind IN ('r', 'p', 'v') ORDER BY 1`,
          [schema, tenant],
        )).rows.map((r: { name: string }) => r.name);
      const schemasBefore = await catalog();
      // What another run does at the same time must not matter.
      await raw(`CREATE SCHEMA "${bystander}"; CREATE TABLE "${bystander}".t (x int)`);

      await body({ ...db, storage, memory });

      assert.deepEqual((await raw(`SELECT note FROM "${schema}".canary`)).rows, [
        { note: "intact" },
      ]);
      for (const tenantStorage of [storage, other]) {
        const alive = (await tenantStorage.get("canary"))!;
        assert.equal(alive.revision, 1);
        assert.deepStrictEqual(withoutBookkeeping(alive), canary);
      }
      assert.deepEqual(ids(await storage.query({})), ["canary"], "every payload row was deleted");
      assert.deepEqual(ids(await other.query({})), ["canary"]);
      assert.deepEqual(await catalog(), schemasBefore, "no table or schema created or dropped");
      // Values travel as parameters: no payload ever reached the SQL text.
      for (const marker of ["DROP", "TRUNCATE", "canary", "OR '1'", "pwned", "DELETE FROM w"]) {
        assert.deepEqual(sent.filter((sql) => sql.includes(marker)), [], marker);
      }
    } finally {
      await raw(`DROP SCHEMA IF EXISTS "${bystander}" CASCADE`);
      await raw(`DROP TABLE IF EXISTS "${schema}".canary`);
      await raw(`DROP SCHEMA IF EXISTS "${tenant}" CASCADE`);
    }
  });
}

/** What {@linkcode eachPayloadInstance} passes on for one payload. */
interface PayloadInstance {
  /** The payload. */
  payload: string;
  /** The instance carrying it as id, workflow, keys, current and active step. */
  instance: WorkflowInstance;
  /** The payload, quoted and cut, for messages. */
  what: string;
  /** Whether `put` stored it (else it was refused with a ValidationError). */
  stored: boolean;
}

/**
 * For each payload: puts an instance carrying it as id, workflow, context keys and step names
 * (stored, also in `memory`, or refused with a ValidationError), runs `check`, then deletes it
 * (deleted or refused with a ValidationError).
 *
 * @returns How many instances were stored.
 */
async function eachPayloadInstance(
  c: Canaries,
  check: (p: PayloadInstance) => Promise<void>,
): Promise<number> {
  let stored = 0;
  for (const payload of PAYLOADS) {
    const what = JSON.stringify(payload.slice(0, 40));
    const instance = newInstance({
      id: payload,
      workflow: payload,
      initial: defineAll([[payload, payload], ["nested", defineAll([[payload, [payload]]])]]),
    });
    instance.currentStep = payload;
    instance.activeSteps = new Set([payload]);
    const put = await outcome(() => c.storage.put(instance));
    refusedOrRan(put, `put ${what}`);
    if ("value" in put) {
      stored++;
      await c.memory.put(instance);
    }
    await check({ payload, instance, what, stored: "value" in put });
    const deleted = await outcome(() => c.storage.delete(payload));
    refusedOrRan(deleted, `delete ${what}`);
    if ("value" in deleted) await c.memory.delete(payload);
  }
  return stored;
}

Deno.test("injection: payloads as id, workflow, keys and step names are stored exactly or refused, and deleted", () =>
  withCanaries("injection_put", async (c) => {
    const stored = await eachPayloadInstance(c, async ({ payload, instance, stored }) => {
      if (stored) {
        assert.deepStrictEqual(withoutBookkeeping((await c.storage.get(payload))!), instance);
      }
    });
    assert.equal(stored, PAYLOADS.length - 4, "all but NUL, lone surrogate, too long");
  }));

Deno.test("injection: payloads in every filter key that takes a string select what MemoryStorage selects", () =>
  withCanaries("injection_filters", async (c) => {
    await eachPayloadInstance(c, async ({ payload, what }) => {
      const filters: InstanceFilter[] = [
        { id: payload },
        { workflow: payload },
        { workflowFamily: payload },
        { contextContains: { initial: defineAll([[payload, payload]]) } },
        { contextContains: { steps: defineAll([[payload, {}]]) } },
        { contextContains: { initial: { nested: defineAll([[payload, [payload]]]) } } },
        { status: payload as never },
        { statusIn: [payload as never] },
        defineAll([[payload, 1]]) as InstanceFilter,
      ];
      for (const filter of filters) {
        const onPg = await outcome(async () => ids(await c.storage.query(filter)));
        refusedOrRan(onPg, `query ${what}`);
        const inMemory = await outcome(async () => ids(await c.memory.query(filter)));
        if ("value" in onPg) assert.deepEqual(onPg, inMemory, `query ${what}`);
      }
    });
  }));

Deno.test("injection: payloads as lease owners and ids of lease operations are refused or a conflict", () =>
  withCanaries("injection_leases", async (c) => {
    const { storage } = c;
    await eachPayloadInstance(c, async ({ payload, instance, what }) => {
      for (
        const operation of [
          () => storage.claim({ owner: payload, leaseMs: 60_000, limit: 5, id: payload }),
          () => storage.renewLease(payload, { owner: payload, leaseMs: 1000 }),
          () => storage.releaseLease(payload, { owner: payload }),
          () => storage.put(instance, { owner: payload }),
          () => storage.put(instance, { owner: payload, expectedRevision: 1 }),
          () => storage.putMany([instance]),
          () => storage.count({ workflowFamily: payload }),
        ] as (() => Promise<unknown>)[]
      ) {
        const result = await outcome(operation);
        if ("error" in result && result.error instanceof Error) {
          assert.ok(
            result.error instanceof ValidationError ||
              result.error.name.endsWith("ConflictError"),
            `${what}: ${result.error}`,
          );
        }
      }
    });
  }));

Deno.test("injection: payloads as cursors, raw or in a well-formed envelope, are refused with ValidationError", () =>
  withCanaries("injection_cursors", async ({ storage }) => {
    for (const payload of PAYLOADS) {
      const what = JSON.stringify(payload.slice(0, 40));
      const envelope = encodeCursor([1, "2026-01-01T00:00:00.000000Z", payload]);
      for (const cursor of [payload, envelope]) {
        refusedOrRan(
          await outcome(() => storage.page({}, { limit: 2, cursor })),
          `cursor ${what}`,
        );
      }
      await assert.rejects(storage.page({}, { limit: 2, cursor: payload }), ValidationError);
    }
  }));

Deno.test("injection: payloads as schema and role names pass only as lowercase identifiers, always quoted", () =>
  withCanaries("injection_names", async ({ driver, schema }) => {
    for (const payload of PAYLOADS) {
      if (/^[a-z_][a-z0-9_]*$/.test(payload)) {
        assert.equal(new PgStorage({ driver, schema: payload }).schema, payload);
      } else {
        assert.throws(() => new PgStorage({ driver, schema: payload }), ValidationError);
        await assert.rejects(migrate(driver, { schema: payload }), ValidationError);
        await assert.rejects(migrationStatus(driver, { schema: payload }), ValidationError);
        await assert.rejects(
          grantRuntimeAccess(driver, { schema: payload, role: "nobody" }),
          ValidationError,
        );
      }
      await assert.rejects(
        grantRuntimeAccess(driver, { schema, role: payload }),
        (error: unknown) =>
          error instanceof ValidationError ||
          (error instanceof DatabaseError && error.code === "42704"), // no such role
      );
    }
  }));
