/**
 * Section 4, a realistic workflow: one instance run through 20 steps, each a read, an advance
 * (the step's result added to the context, two history entries, its config, the step sets) and
 * a write, so the state grows at every step. Run side by side, step by step, by PgStorage, the
 * code a user would write by hand (`JSON.stringify` into an upsert, `state::text` parsed with
 * `JSON.parse`) and `@mastra/pg`'s workflow snapshots. Runs in the peers worker, which has
 * Mastra installed; the lanes are plain objects so this module imports nothing from npm.
 *
 * @module
 */

import { encodeInstance, type PgStorage, type WorkflowInstance } from "../mod.ts";
import { defined } from "./defined.ts";
import { orderInstance } from "./fixtures.ts";
import { summarize, type Timings } from "./measure.ts";

/** How many steps one workflow takes. */
export const WORKFLOW_STEPS = 20;

/** The steps reported (1-based). */
export const REPORTED_STEPS: readonly number[] = [1, 10, 20];

/** One system's way through the workflow: start an instance, then read and write each step. */
export interface WorkflowLane {
  /** Its name. */
  name: string;
  /** Stores the instance as it is before step 1. */
  start(id: string): Promise<unknown>;
  /** Reads the instance back (timed as the step's read). */
  read(id: string): Promise<unknown>;
  /** Applies step `k` to what `read` returned (timed with the step, not alone). */
  advance(loaded: unknown, k: number): unknown;
  /** Writes the advanced state (timed as the step's write). */
  write(id: string, advanced: unknown): Promise<unknown>;
}

/** One lane at one step: read, write, and the whole step (read + advance + write). */
export interface WorkflowStepRow {
  /** The step, 1-based. */
  step: number;
  /** The read. */
  read: Timings;
  /** The write. */
  write: Timings;
  /** The whole step. */
  total: Timings;
  /** PgStorage's encoded state length after this step. */
  stateChars: number;
}

/** What the section measured: per lane, every step. */
export interface WorkflowResult {
  /** Workflows run per lane (timed). */
  runs: number;
  /** Per lane name, one row per step. */
  lanes: Record<string, WorkflowStepRow[]>;
}

/** The instant step `k` happened. */
const at = (k: number, seconds = 0) => new Date(Date.UTC(2025, 0, 15, 11, 0, k * 10 + seconds));

/** The step reference of step `k`. */
const stepName = (k: number) => `step_${String(k).padStart(2, "0")}`;

/** What step `k` produced: a record list, a Date and a note (~500 characters of JSON). */
export function stepResult(k: number): Record<string, unknown> {
  return {
    ok: true,
    finished_at: at(k, 2),
    attempt: 1,
    records: Array.from({ length: 4 }, (_, i) => ({
      id: `rec_${k}_${i}`,
      label: `Record ${i} of step ${k}`,
      amount: 100 * k + i,
      tags: ["synced", i % 2 ? "partial" : "full"],
    })),
    note: `Step ${k} completed after checking the upstream service.`,
  };
}

/** The instance as it is before step 1: the 2 KB order's input, no step run yet. */
export function startInstance(id: string, items: number): WorkflowInstance {
  const order = orderInstance(id, items, "running");
  return {
    ...order,
    currentStep: stepName(1),
    context: { initial: order.context.initial, steps: {} },
    stepConfigs: {},
    activeSteps: new Set([stepName(1)]),
    completedSteps: new Set(),
    executionHistory: [],
  };
}

/** Step `k` applied to a typed instance (PgStorage's lane). */
export function advanceInstance<T extends WorkflowInstance>(instance: T, k: number): T {
  const step = stepName(k);
  const next = k < WORKFLOW_STEPS ? stepName(k + 1) : null;
  instance.context.steps[step] = stepResult(k);
  instance.executionHistory.push(
    { stepRef: step, event: "started", timestamp: at(k), contextUpdates: null },
    { stepRef: step, event: "completed", timestamp: at(k, 2), contextUpdates: { records: 4 } },
  );
  instance.stepConfigs[step] = { retries: 3, timeout_ms: 30000, queue: "default" };
  instance.completedSteps.add(step);
  instance.activeSteps = new Set(next ? [next] : []);
  instance.currentStep = next;
  if (!next) instance.status = "completed";
  return instance;
}

/** Step `k` applied to the plain state a hand-written store keeps (Dates as ISO strings). */
export function advancePlain(state: Record<string, unknown>, k: number): Record<string, unknown> {
  const step = stepName(k);
  const next = k < WORKFLOW_STEPS ? stepName(k + 1) : null;
  (state.context as { steps: Record<string, unknown> }).steps[step] = stepResult(k);
  (state.execution_history as unknown[]).push(
    { step_ref: step, event: "started", timestamp: at(k), context_updates: null },
    { step_ref: step, event: "completed", timestamp: at(k, 2), context_updates: { records: 4 } },
  );
  (state.step_configs as Record<string, unknown>)[step] = {
    retries: 3,
    timeout_ms: 30000,
    queue: "default",
  };
  (state.completed_steps as string[]).push(step);
  state.active_steps = next ? [next] : [];
  state.current_step = next;
  return state;
}

/** Step `k` applied to a Mastra workflow snapshot (step output under `context[step]`). */
export function advanceSnapshot(
  snapshot: Record<string, unknown>,
  k: number,
): Record<string, unknown> {
  const step = stepName(k);
  (snapshot.context as Record<string, unknown>)[step] = {
    status: "success",
    payload: {},
    output: stepResult(k),
    startedAt: at(k).getTime(),
    endedAt: at(k, 2).getTime(),
  };
  (snapshot.executionHistory as unknown[]).push(
    { step_ref: step, event: "started", timestamp: at(k), context_updates: null },
    { step_ref: step, event: "completed", timestamp: at(k, 2), context_updates: { records: 4 } },
  );
  (snapshot.stepConfigs as Record<string, unknown>)[step] = {
    retries: 3,
    timeout_ms: 30000,
    queue: "default",
  };
  snapshot.activePaths = [k];
  snapshot.status = k < WORKFLOW_STEPS ? "running" : "success";
  snapshot.timestamp = at(k, 2).getTime();
  return snapshot;
}

/** PgStorage's lane. */
export function pgStorageLane(storage: PgStorage, items: number): WorkflowLane {
  return {
    name: "PgStorage",
    start: (id) => storage.put(startInstance(id, items)),
    read: (id) => storage.get(id),
    advance: (loaded, k) => advanceInstance(loaded as WorkflowInstance, k),
    write: (_id, advanced) => storage.put(advanced as WorkflowInstance),
  };
}

/**
 * Runs `runs` workflows (plus `warmup` untimed ones) through every lane, the lanes taking
 * turns at every step in an order that rotates, and returns each lane's timings per step.
 */
export async function runWorkflows(
  lanes: readonly WorkflowLane[],
  runs: number,
  warmup: number,
  prefix: string,
  items: number,
): Promise<WorkflowResult> {
  const encodedSizes = (_: number) => {
    const instance = startInstance("size", items);
    return Array.from(
      { length: WORKFLOW_STEPS },
      (_, i) => encodeInstance(advanceInstance(instance, i + 1)).state.length,
    );
  };
  // Each lane with its timings per step.
  const timed = lanes.map((lane) => ({
    lane,
    steps: Array.from({ length: WORKFLOW_STEPS }, () => ({
      read: [] as number[],
      write: [] as number[],
      total: [] as number[],
    })),
  }));
  const idOf = (lane: number, run: number) => `${prefix}${lane}::${run}`;
  for (let run = 0; run < warmup + runs; run++) {
    for (const [l, lane] of lanes.entries()) await lane.start(idOf(l, run));
    for (let k = 1; k <= WORKFLOW_STEPS; k++) {
      for (let j = 0; j < timed.length; j++) {
        const l = (run + k + j) % timed.length;
        const { lane, steps } = defined(timed[l], `workflow lane ${l}`);
        const id = idOf(l, run);
        const t0 = performance.now();
        const loaded = await lane.read(id);
        const t1 = performance.now();
        const advanced = lane.advance(loaded, k);
        const t2 = performance.now();
        await lane.write(id, advanced);
        const t3 = performance.now();
        if (run >= warmup) {
          const slot = defined(steps[k - 1], `${lane.name}'s step ${k}`);
          slot.read.push(t1 - t0);
          slot.write.push(t3 - t2);
          slot.total.push(t3 - t0);
        }
      }
    }
  }
  const sizes = encodedSizes(1);
  const result: WorkflowResult = { runs, lanes: {} };
  for (const { lane, steps } of timed) {
    result.lanes[lane.name] = steps.map((t, i) => ({
      step: i + 1,
      read: summarize(t.read),
      write: summarize(t.write),
      total: summarize(t.total),
      stateChars: defined(sizes[i], `the encoded size at step ${i + 1}`),
    }));
  }
  return result;
}
