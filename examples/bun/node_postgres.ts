// Store a workflow instance in PostgreSQL from Bun, through node-postgres (npm:pg).
// Run: bun install && DATABASE_URL=postgres://user@host/db bun node_postgres.ts
import pg from "pg";
import { migrate, newInstance, PgStorage } from "@heph/pg";
import { nodePostgresDriver } from "@heph/pg/node-postgres";

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
const driver = nodePostgresDriver(pool);
try {
  const { version } = await migrate(driver); // safe on every start, from any number of processes
  console.log(`schema at version ${version}`);
  const storage = new PgStorage({ driver });

  const order = newInstance({
    id: "order::125",
    workflow: "Shop.OrderWorkflow",
    initial: { order_id: 125, placed_at: new Date() },
  });
  const { revision } = await storage.put(order);
  console.log(`put ${order.id} at revision ${revision}`);

  const found = await storage.get("order::125");
  if (found === null) throw new Error("order::125 was not stored");
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

  await storage.delete("order::125");
  console.log(`deleted, get() returns ${await storage.get("order::125")}`);
} finally {
  await pool.end();
}
