/**
 * Type tests for the typed context: `deno task check` type-checks this file, so each
 * `@ts-expect-error` line fails the check when the error it expects disappears. The test itself
 * runs the same calls on a MemoryStorage.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  MemoryStorage,
  newInstance,
  type NewInstanceInput,
  type Page,
  type PgStorage,
  type QueryOperation,
  type Storage,
  type StoredInstance,
  type WorkflowInstance,
} from "../mod.ts";
import { postgresJsDriver, type PostgresJsTransaction } from "../drivers/postgres_js.ts";
import type postgres from "postgres";

interface Order {
  order_id: number;
  customer?: string;
}

/** Compile-time only: the calls below are type-checked, never run. */
function typeChecks(storage: Storage, pgStorage: PgStorage, memory: MemoryStorage): void {
  const order: WorkflowInstance<Order> = newInstance<Order>({
    id: "order::1",
    workflow: "Shop.Order",
    initial: { order_id: 1 },
  });
  const id: number = order.context.initial.order_id;
  void id;

  // @ts-expect-error order_id is a number in Order
  newInstance<Order>({ id: "order::2", workflow: "Shop.Order", initial: { order_id: "x" } });
  // @ts-expect-error order_id is required in Order
  newInstance<Order>({ id: "order::3", workflow: "Shop.Order", initial: { customer: "c" } });
  newInstance<Order>({
    id: "order::4",
    workflow: "Shop.Order",
    // @ts-expect-error Order has no key total
    initial: { order_id: 1, total: 2 },
  });
  // @ts-expect-error initial must be an object
  const notObject: NewInstanceInput<Order> = { id: "a", workflow: "W", initial: 5 };
  void notObject;

  // Without a type argument, initial stays a record of unknown values (never inferred).
  const plain = newInstance({ id: "a", workflow: "W", initial: { order_id: 1 } });
  plain.context.initial.anything = true;
  // @ts-expect-error unknown is not a number
  const untyped: number = plain.context.initial.order_id;
  void untyped;

  // Every store takes typed instances and reads them back typed.
  void storage.put(order);
  void storage.putMany([order, plain]);
  void (async () => {
    const found: StoredInstance<Order> | null = await storage.get<Order>("order::1");
    if (found) {
      const n: number = found.context.initial.order_id;
      // @ts-expect-error order_id is a number, not a string
      const s: string = found.context.initial.order_id;
      void n, s;
    }
    const listed: StoredInstance<Order>[] = await pgStorage.query<Order>({});
    const page: Page<Order> = await memory.page<Order>({}, { limit: 10 });
    const claimed: StoredInstance<Order>[] = await storage.claim<Order>({
      owner: "w",
      leaseMs: 1000,
    });
    for await (const each of pgStorage.scan<Order>({})) {
      const n: number = each.context.initial.order_id;
      void n;
    }
    // @ts-expect-error a read typed as one type is not another
    const wrong: StoredInstance<Order>[] = await storage.query<{ order_id: string }>({});
    void listed, page, claimed, wrong;
  });
}

/** Compile-time only: QueryEvent.operation is a union of the operations, not any string. */
function operationChecks(): void {
  const put: QueryOperation = "put";
  // @ts-expect-error not an operation
  const select: QueryOperation = "select";
  void put, select;
}

/** Compile-time only: a postgres.js transaction is a driver's client too. */
function transactionTypeChecks(sql: postgres.Sql): void {
  void sql.begin((tx) => {
    const driver = postgresJsDriver(tx);
    const session: PostgresJsTransaction = tx;
    return [driver, session];
  });
}

Deno.test("typed context: a typed instance round-trips through a store with its type", async () => {
  void typeChecks;
  void transactionTypeChecks;
  void operationChecks;
  const storage = new MemoryStorage();
  await storage.put(
    newInstance<Order>({ id: "order::1", workflow: "Shop.Order", initial: { order_id: 7 } }),
  );
  const found = await storage.get<Order>("order::1");
  assert.equal(found?.context.initial.order_id, 7);
  const [claimed] = await storage.claim<Order>({ owner: "w", leaseMs: 1000 });
  assert.equal(claimed?.context.initial.order_id, 7);
});
