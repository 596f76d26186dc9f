/**
 * `demo`: a worked example of @heph/pg. An order workflow moves step by step
 * (validate → reserve → charge → ship) and every transition is persisted with `put`, guarded by
 * `expectedRevision`. Started with `--crash-after <step>` it dies right after storing that step;
 * started again, it finds the unfinished order with `query()` and finishes it from the stored
 * state. Without `--url` or `DATABASE_URL` it uses embedded PGlite in `.heph/pglite`
 * (or `--data-dir`): the one command that needs no database named.
 *
 * @example
 * ```sh
 * deno run -A jsr:@heph/pg/cli demo --crash-after reserve   # exits with 1 after step 2 of 4
 * deno run -A jsr:@heph/pg/cli demo                         # resumes the order, completes it
 * ```
 *
 * @module
 */

import {
  ConflictError,
  INSTANCE_STATUSES,
  type InstanceContext,
  migrate,
  newInstance,
  PgStorage,
  type WorkflowInstance,
} from "../mod.ts";
import { command } from "./command.ts";
import { chosenDatabase, DATABASE_OPTIONS, DATABASE_USAGE, DEFAULT_DATA_DIR } from "./database.ts";
import { UsageError } from "./failure.ts";
import { PROGRAM } from "./program.ts";

const WORKFLOW = "Shop.OrderWorkflow";

/** The steps, in order, each computing its result from the context stored so far. */
const STEPS: Record<string, (context: InstanceContext) => Record<string, unknown>> = {
  validate: ({ initial }) => ({
    valid: true,
    total_cents: (initial.items as { qty: number; price_cents: number }[])
      .reduce((sum, item) => sum + item.qty * item.price_cents, 0),
  }),
  reserve: ({ initial }) => ({ reservation: `res-${initial.order_id}` }),
  charge: ({ initial, steps }) => ({
    payment: `pay-${initial.order_id}`,
    amount_cents: (steps.validate as { total_cents: number }).total_cents,
  }),
  ship: ({ initial }) => ({ tracking: `TRACK-${initial.order_id}` }),
};
const STEP_NAMES = Object.keys(STEPS);

const USAGE = `Usage: ${PROGRAM} demo [options]

Runs an order workflow (${STEP_NAMES.join(" → ")}) on @heph/pg, persisting every
transition; resumes unfinished orders left by an earlier run. Without --url or DATABASE_URL,
it uses the embedded PGlite database in ${DEFAULT_DATA_DIR} (or --data-dir).

Options:
${DATABASE_USAGE}
  --schema <name>    the schema to use (default: public)
  --crash-after <step>
                     exit abruptly right after storing this step: ${STEP_NAMES.join(", ")}
  -h, --help         print this help`;

/**
 * Runs the demo.
 *
 * @param args The command-line arguments.
 * @returns The exit code.
 */
export const main: (args: string[]) => Promise<number> = command({
  usage: USAGE,
  options: {
    ...DATABASE_OPTIONS,
    schema: { type: "string", default: "public" },
    "crash-after": { type: "string" },
  },
  run: async ({ values }, session) => {
    const crashAfter = values["crash-after"];
    if (crashAfter !== undefined && !STEP_NAMES.includes(crashAfter)) {
      throw new UsageError(`--crash-after expects one of ${STEP_NAMES.join(", ")}`);
    }
    const { driver, close } = await session.open(chosenDatabase(values, true), { create: true });
    try {
      await migrate(driver, { schema: values.schema }); // quietly: nothing to say when up to date
      const storage = new PgStorage({ driver, schema: values.schema });
      await run(storage, crashAfter);
      await printSummary(storage);
    } finally {
      await close();
    }
  },
});

/** Resumes every unfinished order; when there is none, starts a new one. */
async function run(storage: PgStorage, crashAfter?: string): Promise<void> {
  const unfinished = await storage.query({ statusIn: ["running", "waiting"], workflow: WORKFLOW });
  for (const order of unfinished) {
    const next = STEP_NAMES.find((step) => !order.completedSteps.has(step));
    console.log(`resuming ${order.id} from step ${next} (revision ${order.revision})`);
    await advance(storage, order, order.revision, crashAfter);
  }
  if (unfinished.length > 0) return;

  const n = (await storage.query({ workflow: WORKFLOW })).length + 1;
  const order = newInstance({
    id: `order::${n}`,
    workflow: WORKFLOW,
    initial: {
      order_id: n,
      items: [{ sku: "book", qty: 2, price_cents: 1500 }, { sku: "pen", qty: 1, price_cents: 250 }],
    },
  });
  const { revision } = await storage.put(order, { expectedRevision: 0 }); // must not exist yet
  console.log(`new order ${order.id} (revision ${revision})`);
  await advance(storage, order, revision, crashAfter);
}

/**
 * Runs the steps not yet completed, persisting two transitions per step: started (the step is
 * active) and completed (its result is in the context). Each put expects the revision the
 * previous one returned, so a second process advancing the same order gets a ConflictError
 * instead of silently overwriting it.
 */
async function advance(
  storage: PgStorage,
  order: WorkflowInstance,
  revision: number,
  crashAfter?: string,
): Promise<void> {
  const save = async () => {
    try {
      ({ revision } = await storage.put(order, { expectedRevision: revision }));
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      throw new Error(`${order.id} was changed by another process: ${error.message}`);
    }
  };
  for (const [i, [step, compute]] of Object.entries(STEPS).entries()) {
    if (order.completedSteps.has(step)) continue;

    order.status = "running";
    order.currentStep = step;
    order.activeSteps.add(step);
    order.executionHistory.push(
      { stepRef: step, event: "started", timestamp: new Date(), contextUpdates: null },
    );
    await save();

    const result = compute(order.context);
    order.context.steps[step] = result;
    order.activeSteps.delete(step);
    order.completedSteps.add(step);
    order.executionHistory.push(
      { stepRef: step, event: "completed", timestamp: new Date(), contextUpdates: result },
    );
    if (order.completedSteps.size === STEP_NAMES.length) {
      order.status = "completed";
      order.currentStep = null;
    }
    await save();
    console.log(`[${i + 1}/${STEP_NAMES.length}] ${step} … done (revision ${revision})`);

    if (step === crashAfter) {
      console.error(`crash: exiting after ${step} (--crash-after); run again to resume`);
      Deno.exit(1); // no cleanup, no close: what a killed process leaves behind
    }
  }
  console.log(`${order.id} completed`);
}

/** Prints how many stored instances (of any workflow) have each status. */
async function printSummary(storage: PgStorage): Promise<void> {
  const all = await storage.query({});
  console.log("\nstatus     instances");
  for (const status of INSTANCE_STATUSES) {
    const count = all.filter((instance) => instance.status === status).length;
    console.log(`${status.padEnd(10)} ${String(count).padStart(9)}`);
  }
  console.log(`${"total".padEnd(10)} ${String(all.length).padStart(9)}`);
}
