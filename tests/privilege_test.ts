/**
 * Least privilege: a runtime role given exactly what PgStorage needs by grantRuntimeAccess()
 * (`deno task migrate --grant <role>`) passes the whole Storage contract, cannot change the
 * schema, and cannot reach another tenant's schema.
 *
 * @module
 */
import assert from "node:assert/strict";
import pg from "pg";
import {
  DatabaseError,
  grantRuntimeAccess,
  migrate,
  MigrationError,
  newInstance,
  PgStorage,
  type SqlDriver,
  ValidationError,
} from "../mod.ts";
import { nodePostgresDriver } from "../drivers/node_postgres.ts";
import { STORAGE_CASES, storageConformance } from "../testing/storage_conformance.ts";
import { withTestSchema } from "./support/test_db.ts";

/** A driver that must never be called: proves a refusal happened before any SQL. */
const untouchable: SqlDriver = {
  query: () => Promise.reject(new Error("no SQL expected")),
  transaction: () => Promise.reject(new Error("no SQL expected")),
};

/** Asserts a DatabaseError with `code` (42501: permission denied). */
const denied = (code = "42501") => (error: unknown) => {
  assert.ok(error instanceof DatabaseError, String(error));
  assert.equal(error.code, code, error.message);
  return true;
};

Deno.test("a runtime role with grantRuntimeAccess()", async (t) => {
  const db = await withTestSchema("priv");
  const owner = nodePostgresDriver(db.pool);
  const raw = (text: string, params: unknown[] = []) => db.pool.query(text, params);
  const role = `${db.schema}_app`;
  const otherRole = `${db.schema}_app_b`;
  const tenantB = `${db.schema}_b`;
  const pools: pg.Pool[] = [];
  /** A pool that logs in as `name` (the test server trusts local logins). */
  const connectAs = (name: string) => {
    const url = new URL(db.url);
    url.username = name;
    const pool = new pg.Pool({ connectionString: url.href, max: 4 });
    pools.push(pool);
    return pool;
  };
  const privileges = async (name: string, schema: string) => {
    const { rows } = await raw(
      `SELECT p AS privilege, has_table_privilege($1, $2, p) AS granted
         FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p
       UNION ALL
       SELECT 'schema ' || p, has_schema_privilege($1, $3, p) FROM unnest(ARRAY['USAGE', 'CREATE']) AS p`,
      [name, `"${schema}".workflow_instances`, schema],
    );
    return Object.fromEntries(
      rows.map((r: { privilege: string; granted: boolean }) => [r.privilege, r.granted]),
    );
  };
  const exactly = {
    SELECT: true,
    INSERT: true,
    UPDATE: true,
    DELETE: true,
    TRUNCATE: false,
    REFERENCES: false,
    TRIGGER: false,
    "schema USAGE": true,
    "schema CREATE": false,
  };
  await raw(`CREATE ROLE "${role}" LOGIN`);
  await raw(`CREATE ROLE "${otherRole}" LOGIN`);
  try {
    await migrate(owner, { schema: db.schema });
    await migrate(owner, { schema: tenantB });

    await t.step("a dry run returns the SQL and changes nothing", async () => {
      const result = await grantRuntimeAccess(owner, { schema: db.schema, role, dryRun: true });
      const table = `"${db.schema}".workflow_instances`;
      assert.deepEqual(result.sql, [
        `REVOKE ALL ON TABLE ${table} FROM "${role}"`,
        `REVOKE ALL ON SCHEMA "${db.schema}" FROM "${role}"`,
        `GRANT USAGE ON SCHEMA "${db.schema}" TO "${role}"`,
        `GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE ${table} TO "${role}"`,
      ]);
      assert.equal(Object.values(await privileges(role, db.schema)).some(Boolean), false);
    });

    await t.step(
      "it grants exactly USAGE and SELECT, INSERT, UPDATE, DELETE, whatever the role held before",
      async () => {
        // Extra privileges someone granted by hand are taken back.
        await raw(`GRANT ALL ON TABLE "${db.schema}".workflow_instances TO "${role}"`);
        await raw(`GRANT CREATE ON SCHEMA "${db.schema}" TO "${role}"`);
        const result = await grantRuntimeAccess(owner, { schema: db.schema, role });
        assert.equal(result.sql.length, 4);
        assert.deepEqual(await privileges(role, db.schema), exactly);
        await grantRuntimeAccess(owner, { schema: db.schema, role }); // idempotent
        assert.deepEqual(await privileges(role, db.schema), exactly);
        const { rows } = await raw(`SELECT has_table_privilege($1, $2, 'SELECT') AS granted`, [
          role,
          `"${db.schema}".heph_migrations`,
        ]);
        assert.equal(rows[0].granted, false, "nothing on heph_migrations");
        await grantRuntimeAccess(owner, { schema: tenantB, role: otherRole });
        assert.deepEqual(await privileges(role, tenantB), {
          ...Object.fromEntries(Object.keys(exactly).map((k) => [k, false])),
        });
      },
    );

    await t.step("the Storage contract passes as the runtime role", async () => {
      const runtime = nodePostgresDriver(connectAs(role));
      let n = 0;
      const report = await storageConformance("runtime role", async () => {
        const schema = `${db.schema}_c${n++}`;
        await migrate(owner, { schema });
        await grantRuntimeAccess(owner, { schema, role });
        return {
          storage: new PgStorage({ driver: runtime, schema }),
          close: async () => {
            await raw(`DROP SCHEMA "${schema}" CASCADE`);
          },
        };
      });
      assert.deepEqual(
        report.results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.error}`),
        [],
      );
      assert.equal(report.passed, STORAGE_CASES.length);
    });

    await t.step(
      "the runtime role cannot create, alter or drop anything, nor migrate",
      async () => {
        const pool = connectAs(role);
        const table = `"${db.schema}".workflow_instances`;
        const ddl = [
          `DROP TABLE ${table}`,
          `ALTER TABLE ${table} ADD COLUMN note text`,
          `ALTER TABLE ${table} DROP CONSTRAINT workflow_instances_status_check`,
          `CREATE INDEX ON ${table} (revision)`,
          `CREATE TABLE "${db.schema}".intruder (x int)`,
          `CREATE VIEW "${db.schema}".peek AS SELECT 1`,
          `TRUNCATE ${table}`,
          `DROP SCHEMA "${db.schema}" CASCADE`,
          `SELECT * FROM "${db.schema}".heph_migrations`,
          `DELETE FROM "${db.schema}".heph_migrations`,
          `CREATE TRIGGER t BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()`,
        ];
        for (const sql of ddl) {
          await assert.rejects(pool.query(sql), (error: unknown) => {
            assert.equal((error as { code?: string }).code, "42501", `${sql}: ${error}`);
            return true;
          });
        }
        await assert.rejects(migrate(nodePostgresDriver(pool), { schema: db.schema, to: 0 }), (
          error: unknown,
        ) => {
          assert.ok(error instanceof MigrationError);
          assert.equal((error.cause as DatabaseError).code, "42501");
          return true;
        });
        const { rows } = await raw(
          `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relkind IN ('r', 'v')`,
          [db.schema],
        );
        assert.equal(rows[0].n, 2, "still workflow_instances and heph_migrations only");
        // Granting onwards is not possible either: the role holds no grant option.
        await assert.rejects(
          grantRuntimeAccess(nodePostgresDriver(pool), { schema: db.schema, role: otherRole }),
          (error: unknown) => {
            assert.ok(denied()(error));
            assert.match((error as Error).message, /may not grant it; connect as the owner/);
            return true;
          },
        );
        assert.equal((await privileges(otherRole, db.schema)).SELECT, false);
      },
    );

    await t.step(
      "a role granted one tenant's schema cannot reach another's through PgStorage",
      async () => {
        const ownerB = new PgStorage({ driver: owner, schema: tenantB });
        await ownerB.put(
          newInstance({ id: "secret::1", workflow: "B", initial: { card: "4242" } }),
        );
        const runtimeA = nodePostgresDriver(connectAs(role));
        const intruder = new PgStorage({ driver: runtimeA, schema: tenantB });
        const instance = newInstance({ id: "secret::1", workflow: "A" });
        const operations: [string, () => Promise<unknown>][] = [
          ["get", () => intruder.get("secret::1")],
          ["query", () => intruder.query({})],
          ["count", () => intruder.count({})],
          ["page", () => intruder.page({}, { limit: 10 })],
          ["put", () => intruder.put(instance)],
          ["putMany", () => intruder.putMany([instance])],
          ["delete", () => intruder.delete("secret::1")],
          ["claim", () => intruder.claim({ owner: "a", leaseMs: 1000 })],
          ["prune", () => intruder.prune({ olderThan: new Date(Date.now() + 60_000) })],
        ];
        for (const [name, operation] of operations) {
          await assert.rejects(operation(), (error: unknown) => {
            assert.ok(denied()(error));
            assert.match(
              (error as Error).message,
              new RegExp(
                `^Permission denied for ${name} on "${tenantB}".workflow_instances: permission denied for schema ${tenantB} `,
              ),
            );
            return true;
          }, name);
        }
        const stored = (await ownerB.get("secret::1"))!;
        assert.equal(stored.revision, 1);
        assert.deepEqual(stored.context.initial, { card: "4242" });
        // Its own tenant works; and B's role cannot read A either.
        const mine = new PgStorage({ driver: runtimeA, schema: db.schema });
        await mine.put(newInstance({ id: "mine::1", workflow: "A" }));
        const runtimeB = new PgStorage({
          driver: nodePostgresDriver(connectAs(otherRole)),
          schema: db.schema,
        });
        await assert.rejects(runtimeB.get("mine::1"), denied());
        assert.equal(
          (await new PgStorage({
            driver: nodePostgresDriver(connectAs(otherRole)),
            schema: tenantB,
          })
            .get("secret::1"))!.revision,
          1,
        );
      },
    );

    await t.step(
      "roles that must not get runtime access are refused, and nothing changes",
      async () => {
        const refused = async (options: { schema?: string; role: string }, pattern: RegExp) => {
          const before = await privileges(options.role, options.schema ?? db.schema).catch(() =>
            null
          );
          await assert.rejects(grantRuntimeAccess(owner, options), (error: unknown) => {
            assert.ok(error instanceof ValidationError, String(error));
            assert.match(error.message, pattern);
            return true;
          });
          if (before) {
            assert.deepEqual(await privileges(options.role, options.schema ?? db.schema), before);
          }
        };
        const { rows: [{ user }] } = await raw("SELECT current_user AS user");
        const { rows: [{ rolsuper }] } = await raw(
          "SELECT rolsuper FROM pg_roles WHERE rolname = current_user",
        );
        if (rolsuper) {
          await refused({ schema: db.schema, role: user }, /is a superuser/);
        }
        // An owner of the table, of the schema, or a member of the owner could alter and drop.
        const tableOwner = `${db.schema}_own`;
        const member = `${db.schema}_mem`;
        const schema = `${db.schema}_owned`;
        await migrate(owner, { schema });
        await raw(`CREATE ROLE "${tableOwner}"`);
        await raw(`CREATE ROLE "${member}" LOGIN IN ROLE "${tableOwner}"`);
        try {
          await raw(`ALTER TABLE "${schema}".workflow_instances OWNER TO "${tableOwner}"`);
          await refused({ schema, role: tableOwner }, /owns "\w+"\.workflow_instances/);
          await refused({ schema, role: member }, /is a member of its owner/);
          await raw(`ALTER TABLE "${schema}".workflow_instances OWNER TO CURRENT_USER`);
          await raw(`ALTER SCHEMA "${schema}" OWNER TO "${tableOwner}"`);
          await refused({ schema, role: tableOwner }, /owns schema \w+/);
          await raw(`ALTER SCHEMA "${schema}" OWNER TO CURRENT_USER`);
          // Privileges held through PUBLIC survive a REVOKE from the role: refused, with the fix.
          await raw(`GRANT TRUNCATE ON "${schema}".workflow_instances TO PUBLIC`);
          await refused({ schema, role }, /still has TRUNCATE .* through PUBLIC/);
          await raw(`REVOKE TRUNCATE ON "${schema}".workflow_instances FROM PUBLIC`);
          await raw(`GRANT SELECT ON "${schema}".heph_migrations TO "${role}"`);
          await refused({ schema, role }, /has privileges on "\w+"\.heph_migrations/);
        } finally {
          await raw(`DROP SCHEMA "${schema}" CASCADE`);
          await raw(`DROP OWNED BY "${member}", "${tableOwner}"`);
          await raw(`DROP ROLE "${member}"`);
          await raw(`DROP ROLE "${tableOwner}"`);
        }
        // Names refused before any SQL is sent.
        for (const bad of ["", "public", "pg_monitor", "none", "x".repeat(64), "a\u0000b", 7]) {
          await assert.rejects(
            grantRuntimeAccess(untouchable, { role: bad as string }),
            ValidationError,
            String(bad),
          );
        }
        await assert.rejects(
          grantRuntimeAccess(untouchable, { schema: "Bad", role }),
          ValidationError,
        );
        // A role that does not exist, a schema that is not migrated: clear database errors.
        await assert.rejects(
          grantRuntimeAccess(owner, { schema: db.schema, role: `${db.schema}_ghost` }),
          (error: unknown) => {
            assert.ok(denied("42704")(error));
            assert.match((error as Error).message, /^Role \w+ does not exist: create it first/);
            return true;
          },
        );
        await assert.rejects(
          grantRuntimeAccess(owner, { schema: `${db.schema}_none`, role }),
          (error: unknown) => {
            assert.ok(denied("42P01")(error));
            assert.match((error as Error).message, /does not exist: migrate schema \w+ first/);
            return true;
          },
        );
        // A quoted name is used exactly as given.
        const odd = `${db.schema} "Odd" Role`;
        await raw(`CREATE ROLE "${odd.replaceAll('"', '""')}"`);
        try {
          await grantRuntimeAccess(owner, { schema: db.schema, role: odd });
          assert.deepEqual(await privileges(odd, db.schema), exactly);
        } finally {
          await raw(`DROP OWNED BY "${odd.replaceAll('"', '""')}"`);
          await raw(`DROP ROLE "${odd.replaceAll('"', '""')}"`);
        }
      },
    );
  } finally {
    await Promise.all(pools.map((pool) => pool.end()));
    await raw(`DROP SCHEMA IF EXISTS "${tenantB}" CASCADE`);
    await db.drop().catch(() => {});
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      for (const name of [role, otherRole]) {
        await admin.query(`DROP OWNED BY "${name}"`);
        await admin.query(`DROP ROLE "${name}"`);
      }
    } finally {
      await admin.end();
    }
  }
});
