// Store a workflow instance in PostgreSQL from Node, through postgres.js (npm:postgres).
// Run: npm install && DATABASE_URL=postgres://user@host/db node postgres_js.mjs
import process from "node:process";
import postgres from "postgres";
import { migrate, newInstance, PgStorage } from "@heph/pg";
import { postgresJsDriver } from "@heph/pg/postgres-js";

const sql = postgres(process.env.DATABASE_URL, { onnotice: () => {} });
const driver = postgresJsDriver(sql);
try {
  const { version } = await migrate(driver); // safe on every start, from any number of processes
  console.log(`schema at version ${version}`);
  const storage = new PgStorage({ driver });

  const order = newInstance({
    id: "order::124",
    workflow: "Shop.OrderWorkflow",
    initial: { order_id: 124, placed_at: new Date() },
  });
  const { revision } = await storage.put(order);
  console.log(`put ${order.id} at revision ${revision}`);

  const found = await storage.get("order::124");
  const placedAt = found.context.initial.placed_at;
  console.log(
    `got ${found.id}: ${found.status}, placed_at is a Date: ${placedAt instanceof Date}`,
  );

  found.status = "running"; // advance it, failing if someone else wrote it since we read it
  const next = await storage.put(found, { expectedRevision: found.revision });
  console.log(`now ${found.status} at revision ${next.revision}`);

  const running = await storage.query({
    statusIn: ["running"],
    workflow: "Shop.OrderWorkflow",
  });
  console.log(`running: ${running.map((instance) => instance.id).join(", ")}`);

  await storage.delete("order::124");
  console.log(`deleted, get() returns ${await storage.get("order::124")}`);
} finally {
  await sql.end();
}
