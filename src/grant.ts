/**
 * Least privilege: give a runtime role exactly what {@linkcode PgStorage} needs on one schema,
 * and nothing that changes the schema.
 *
 * @module
 */

import type { SqlDriver, SqlStatement } from "./driver.ts";
import { toDatabaseError, ValidationError } from "./errors.ts";
import { DEFAULT_SCHEMA, describe, quoteRole, quoteSchema } from "./validation.ts";

/** The SQLSTATE the in-transaction checks raise when the role must not get runtime access. */
const REFUSED = "HG001";
const ROLE_SETTING = "heph.grant_role";
const TAG = "$heph_grant$";

/**
 * Options of {@linkcode grantRuntimeAccess}.
 *
 * @example
 * ```ts
 * import type { GrantOptions } from "@heph/pg";
 *
 * const options: GrantOptions = { schema: "tenant_a", role: "heph_app" };
 * ```
 */
export interface GrantOptions {
  /** The schema, already migrated; `"public"` by default. */
  schema?: string;
  /** The role the application connects as: it must exist, own nothing there, not be a superuser. */
  role: string;
  /** Return the SQL that would run, and change nothing (nothing is sent to the database). */
  dryRun?: boolean;
}

/**
 * What {@linkcode grantRuntimeAccess} ran, or would run.
 *
 * @example
 * ```ts
 * import type { GrantResult } from "@heph/pg";
 *
 * const result: GrantResult = { schema: "public", role: "heph_app", sql: [] };
 * ```
 */
export interface GrantResult {
  /** The schema. */
  schema: string;
  /** The role. */
  role: string;
  /** The REVOKE and GRANT statements, in order. */
  sql: string[];
}

/**
 * Gives `role` exactly what PgStorage needs on a migrated schema, in one transaction: USAGE on
 * the schema and SELECT, INSERT, UPDATE, DELETE on its `workflow_instances` table. Whatever
 * else the role held there is revoked first (CREATE on the schema; TRUNCATE, REFERENCES,
 * TRIGGER on the table), so the role can read and write instances but cannot create, alter or
 * drop anything, and gets nothing on `heph_migrations` (run migrations as the owner). Other
 * schemas stay out of its reach: one role per tenant keeps tenants apart. Run it again after
 * every migration.
 *
 * Before granting, the transaction checks that the role exists, is not a superuser (whom no
 * privilege restricts) and neither owns nor is a member of the owner of the schema or the
 * table (an owner can alter and drop); otherwise nothing changes.
 *
 * @param driver The driver, connected as the table's owner (the role that ran `migrate`).
 * @param options The schema, the role, dry run.
 * @returns The REVOKE and GRANT statements run (or, for a dry run, to run).
 * @throws {ValidationError} On a bad schema or role name, or a role that must not get runtime
 *   access (a superuser, an owner); nothing changed.
 * @throws {DatabaseError} When the role does not exist (`42704`), the schema is not migrated
 *   (`42P01`), or the connected user may not grant (`42501`); nothing changed.
 *
 * @example
 * ```ts ignore
 * import pg from "npm:pg";
 * import { grantRuntimeAccess, migrate } from "@heph/pg";
 * import { nodePostgresDriver } from "@heph/pg/node-postgres";
 *
 * const owner = nodePostgresDriver(new pg.Pool({ connectionString: Deno.env.get("OWNER_URL") }));
 * await migrate(owner, { schema: "tenant_a" });
 * await grantRuntimeAccess(owner, { schema: "tenant_a", role: "tenant_a_app" });
 * ```
 *
 * @example The SQL, without a database
 * ```ts
 * import assert from "node:assert/strict";
 * import { grantRuntimeAccess, type SqlDriver } from "@heph/pg";
 *
 * const { sql } = await grantRuntimeAccess({} as SqlDriver, { role: "heph_app", dryRun: true });
 * assert.equal(sql.at(-1), 'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "public".workflow_instances TO "heph_app"');
 * ```
 */
export async function grantRuntimeAccess(
  driver: SqlDriver,
  options: GrantOptions,
): Promise<GrantResult> {
  if (typeof options !== "object" || options === null) {
    throw new ValidationError(
      `Invalid grant options: expected an object, got ${describe(options)}`,
    );
  }
  const schema = options.schema ?? DEFAULT_SCHEMA;
  const quotedSchema = quoteSchema(schema);
  const role = options.role;
  const quotedRole = quoteRole(role);
  const table = `${quotedSchema}.workflow_instances`;
  const sql = [
    `REVOKE ALL ON TABLE ${table} FROM ${quotedRole}`,
    `REVOKE ALL ON SCHEMA ${quotedSchema} FROM ${quotedRole}`,
    `GRANT USAGE ON SCHEMA ${quotedSchema} TO ${quotedRole}`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE ${table} TO ${quotedRole}`,
  ];
  if (options.dryRun) return { schema, role, sql };
  const statements: SqlStatement[] = [
    { text: `SELECT set_config('${ROLE_SETTING}', $1, true)`, params: [role] },
    { text: checks(quotedSchema, schema) },
    ...sql.map((text) => ({ text })),
    { text: verification(quotedSchema, schema) },
  ];
  try {
    await driver.transaction(statements);
  } catch (error) {
    const cause = toDatabaseError(error);
    if (cause.code === REFUSED) throw new ValidationError(cause.message, { cause: error });
    throw cause;
  }
  return { schema, role, sql };
}

/** The DO block that refuses, inside the transaction, a role that must not get runtime access. */
function checks(quotedSchema: string, schema: string): string {
  return `DO ${TAG} DECLARE
  grantee pg_roles%ROWTYPE;
  tbl regclass := to_regclass('${quotedSchema}.workflow_instances');
  holder name;
BEGIN
  SELECT * INTO grantee FROM pg_roles WHERE rolname = current_setting('${ROLE_SETTING}');
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Role % does not exist: create it first (CREATE ROLE % LOGIN PASSWORD …)',
      quote_ident(current_setting('${ROLE_SETTING}')), quote_ident(current_setting('${ROLE_SETTING}'))
      USING ERRCODE = '42704';
  END IF;
  IF tbl IS NULL THEN
    RAISE EXCEPTION 'Table ${quotedSchema}.workflow_instances does not exist: migrate schema ${schema} first'
      USING ERRCODE = '42P01';
  END IF;
  IF grantee.rolsuper THEN
    ${
    refuse(
      "Role % is a superuser, whom no privilege restricts: give the application a role of its own",
      "quote_ident(grantee.rolname)",
    )
  };
  END IF;
  SELECT pg_get_userbyid(n.nspowner) INTO holder FROM pg_namespace n WHERE n.nspname = '${schema}';
  IF pg_has_role(grantee.oid, holder, 'MEMBER') THEN
    ${
    refuse(
      `Role % owns schema ${schema} (or is a member of its owner %), so it could create, alter and drop there: give the application a role that owns nothing`,
      "quote_ident(grantee.rolname)",
      "quote_ident(holder)",
    )
  };
  END IF;
  SELECT pg_get_userbyid(c.relowner) INTO holder FROM pg_class c WHERE c.oid = tbl;
  IF pg_has_role(grantee.oid, holder, 'MEMBER') THEN
    ${
    refuse(
      `Role % owns ${quotedSchema}.workflow_instances (or is a member of its owner %), so it could alter and drop it: give the application a role that owns nothing`,
      "quote_ident(grantee.rolname)",
      "quote_ident(holder)",
    )
  };
  END IF;
END ${TAG}`;
}

/**
 * The DO block that checks, after the grants, that the role has exactly what it needs: GRANT and
 * REVOKE by a role that may not grant only warn, and privileges held through PUBLIC or another
 * role survive a REVOKE from this one.
 */
function verification(quotedSchema: string, schema: string): string {
  const table = `${quotedSchema}.workflow_instances`;
  const migrations = `${quotedSchema}.heph_migrations`;
  return `DO ${TAG} DECLARE
  grantee text := current_setting('${ROLE_SETTING}');
  privilege text;
BEGIN
  FOREACH privilege IN ARRAY ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE'] LOOP
    IF NOT has_table_privilege(grantee, '${table}', privilege) THEN
      RAISE EXCEPTION 'Role % did not get % on ${table}: % may not grant it; connect as the owner of the table (the role that ran migrate)',
        quote_ident(grantee), privilege, quote_ident(current_user) USING ERRCODE = '42501';
    END IF;
  END LOOP;
  IF NOT has_schema_privilege(grantee, '${schema}', 'USAGE') THEN
    RAISE EXCEPTION 'Role % did not get USAGE on schema ${quotedSchema}: % may not grant it; connect as the owner of the schema',
      quote_ident(grantee), quote_ident(current_user) USING ERRCODE = '42501';
  END IF;
  FOREACH privilege IN ARRAY ARRAY['TRUNCATE', 'REFERENCES', 'TRIGGER'] LOOP
    IF has_table_privilege(grantee, '${table}', privilege) THEN
      ${
    refuse(
      `Role % still has % on ${table} through PUBLIC or a role it belongs to: revoke it there`,
      "quote_ident(grantee)",
      "privilege",
    )
  };
    END IF;
  END LOOP;
  IF has_schema_privilege(grantee, '${schema}', 'CREATE') THEN
    ${
    refuse(
      `Role % can still create in schema ${quotedSchema} through PUBLIC or a role it belongs to: revoke it there (REVOKE CREATE ON SCHEMA ${quotedSchema} FROM PUBLIC)`,
      "quote_ident(grantee)",
    )
  };
  END IF;
  IF to_regclass('${migrations}') IS NOT NULL AND
     has_table_privilege(grantee, '${migrations}', 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE') THEN
    ${
    refuse(
      `Role % has privileges on ${migrations}, which only migrations need: revoke them (REVOKE ALL ON ${migrations} FROM %)`,
      "quote_ident(grantee)",
      "quote_ident(grantee)",
    )
  };
  END IF;
END ${TAG}`;
}

function refuse(message: string, ...args: string[]): string {
  return `RAISE EXCEPTION '${message}', ${args.join(", ")} USING ERRCODE = '${REFUSED}'`;
}
