import assert from "node:assert/strict";
import postgres from "postgres";
import { PgStorage, ValidationError } from "../mod.ts";
import { postgresJsDriver } from "../drivers/postgres_js.ts";
import { checkDriverConformance } from "./support/conformance.ts";
import { checkDriverBehaviour, rejectsWithCode } from "./support/driver_checks.ts";
import { withTestSchema } from "./support/test_db.ts";

Deno.test("PgStorage on postgres.js honours the Storage contract", async (t) => {
  const db = await withTestSchema("pgjs");
  const sql = postgres(db.url, { onnotice: () => {} });
  try {
    await checkDriverConformance(t, postgresJsDriver(sql), db.schema);
  } finally {
    await sql.end();
    await db.drop();
  }
});

Deno.test("postgresJsDriver", async (t) => {
  const db = await withTestSchema("pgjs");
  const sql = postgres(db.url, { onnotice: () => {} });
  try {
    await checkDriverBehaviour(t, postgresJsDriver(sql), db.schema);
  } finally {
    await sql.end();
    await db.drop();
  }
});

Deno.test("postgresJsDriver: a refused connection is a DatabaseError with code 08001", async () => {
  const sql = postgres("postgres://postgres@127.0.0.1:1/test", { connect_timeout: 2, max: 1 });
  const driver = postgresJsDriver(sql);
  try {
    await rejectsWithCode(driver.query("SELECT 1"), "08001");
    await rejectsWithCode(driver.transaction([{ text: "SELECT 1" }]), "08001");
    await assert.rejects(new PgStorage({ driver }).get("x"), {
      name: "DatabaseError",
      code: "08001",
    });
  } finally {
    await sql.end();
  }
});

Deno.test("postgresJsDriver refuses a client that transforms what it reads", async () => {
  const options = { onnotice: () => {} };
  for (const transform of [postgres.camel, { value: { from: (v: unknown) => v } }]) {
    const sql = postgres("postgres://postgres@127.0.0.1:1/test", { ...options, transform });
    try {
      assert.throws(() => postgresJsDriver(sql), ValidationError);
    } finally {
      await sql.end();
    }
  }
  const plain = postgres("postgres://postgres@127.0.0.1:1/test", {
    ...options,
    transform: { undefined: null },
  });
  try {
    postgresJsDriver(plain);
  } finally {
    await plain.end();
  }
});
