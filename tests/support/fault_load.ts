/**
 * A write-and-read load for fault tests: callers put and get their own instances in a loop
 * while the test breaks connections, and the load keeps track of what was acknowledged so it
 * can check afterwards that nothing acknowledged was lost or changed.
 *
 * A put that fails because its connection was lost may still have committed (the server can
 * commit, then lose the connection before the reply). The load keeps such puts as "in doubt"
 * until a read settles them; a read may only return the last acknowledged put, or one in doubt
 * after it with a revision that fits.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  DatabaseError,
  isConnectionError,
  newInstance,
  type Storage,
  type StoredInstance,
  type WorkflowInstance,
} from "../../mod.ts";
import { withoutBookkeeping } from "../../testing/storage_conformance.ts";

/** One instance and what is known of it. */
interface Tracked {
  id: string;
  /** The last put the store acknowledged, with the revision it returned. */
  acked?: { revision: number; instance: WorkflowInstance };
  /** Puts after it that failed with a lost connection: applied or not, nobody knows yet. */
  inDoubt: WorkflowInstance[];
}

/** What the callers saw. */
export interface LoadStats {
  /** Operations that succeeded. */
  ok: number;
  /** Rejections with a connection code, by code. */
  lost: Map<string, number>;
  /** Puts in doubt that a later read showed applied. */
  appliedInDoubt: number;
  /** Anything else thrown: must stay empty. */
  unexpected: unknown[];
  /** Reads that contradicted what was acknowledged: must stay empty. */
  violations: string[];
}

/** Messages PgStorage gives a lost or refused connection. */
/** The statuses the load cycles through. */
const STATUSES = ["pending", "running", "waiting", "completed"] as const;

const CONNECTION_MESSAGE =
  /^(Cannot run \w+, no connection to the database: |Connection lost during \w+(, which may or may not have been applied)?: )/;

/**
 * Callers that each put and get `perCaller` instances of their own, round-robin, until
 * {@linkcode TrackedLoad.stop}.
 */
export class TrackedLoad {
  readonly stats: LoadStats = {
    ok: 0,
    lost: new Map(),
    appliedInDoubt: 0,
    unexpected: [],
    violations: [],
  };
  #storage: Storage;
  #tracked: Tracked[][];
  #running: Promise<void>[] = [];
  #stopped = false;
  #seq = 0;
  #pauseMs: number;
  #payload: string;

  /**
   * @param storage The store under test.
   * @param options Callers, instances per caller, the id prefix, the pause after a failure,
   *   and the size of each instance's filler text.
   */
  constructor(
    storage: Storage,
    options: {
      callers: number;
      perCaller: number;
      prefix: string;
      pauseMs?: number;
      payloadBytes?: number;
    },
  ) {
    this.#storage = storage;
    this.#pauseMs = options.pauseMs ?? 5;
    this.#payload = "x".repeat(options.payloadBytes ?? 2000);
    this.#tracked = Array.from(
      { length: options.callers },
      (_, c) =>
        Array.from({ length: options.perCaller }, (_, i) => ({
          id: `${options.prefix}::${c}::${i}`,
          inDoubt: [],
        })),
    );
  }

  /** Starts the callers. */
  start(): void {
    this.#running = this.#tracked.map((mine, caller) => this.#caller(caller, mine));
  }

  /** Stops the callers and waits for their last operation. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#running);
  }

  /** How many rejections had a connection code. */
  get lostCount(): number {
    return [...this.stats.lost.values()].reduce((a, b) => a + b, 0);
  }

  /**
   * Reads every instance back through `storage` and checks it against what was acknowledged.
   *
   * @returns How many matched their last acknowledged put exactly, and how many a put in doubt.
   */
  async verify(storage: Storage): Promise<{ exact: number; inDoubt: number }> {
    let exact = 0;
    let inDoubt = 0;
    for (const tracked of this.#tracked.flat()) {
      const problem = this.#check(tracked, await storage.get(tracked.id), false);
      assert.equal(problem, undefined, problem);
      if (tracked.inDoubt.length === 0) exact++;
      else inDoubt++;
    }
    return { exact, inDoubt };
  }

  /** Each caller's instances: one more put and get each, all of which must succeed. */
  async settle(): Promise<void> {
    for (const tracked of this.#tracked.flat()) {
      const instance = this.#next(tracked.id);
      const { revision } = await this.#storage.put(instance);
      tracked.acked = { revision, instance };
      tracked.inDoubt = [];
      const stored = await this.#storage.get(tracked.id);
      assert.ok(stored);
      assert.equal(stored.revision, revision);
      assert.deepStrictEqual(withoutBookkeeping(stored), instance);
    }
  }

  /** Asserts that every rejection had a connection code and a clear message, and no read lied. */
  assertClean(): void {
    assert.deepEqual(this.stats.violations, []);
    assert.deepEqual(this.stats.unexpected.map(String), []);
  }

  async #caller(caller: number, mine: Tracked[]): Promise<void> {
    for (let round = 0; !this.#stopped; round++) {
      const tracked = mine[round % mine.length];
      if (!tracked) throw new Error("a caller needs at least one instance to write");
      const instance = this.#next(tracked.id, caller);
      try {
        const { revision } = await this.#storage.put(instance);
        tracked.acked = { revision, instance };
        tracked.inDoubt = [];
        this.stats.ok++;
      } catch (error) {
        if (this.#failed(error)) tracked.inDoubt.push(instance);
        await pause(this.#pauseMs);
      }
      try {
        const stored = await this.#storage.get(tracked.id);
        this.stats.ok++;
        const problem = this.#check(tracked, stored, true);
        if (problem) this.stats.violations.push(problem);
      } catch (error) {
        this.#failed(error);
        await pause(this.#pauseMs);
      }
    }
  }

  /** Records a rejection; true when it is a lost connection. */
  #failed(error: unknown): boolean {
    if (isConnectionError(error) && CONNECTION_MESSAGE.test(error.message)) {
      this.stats.lost.set(error.code, (this.stats.lost.get(error.code) ?? 0) + 1);
      return true;
    }
    this.stats.unexpected.push(
      error instanceof DatabaseError ? `${error.code} ${error.message}` : error,
    );
    return false;
  }

  /**
   * What is wrong with `stored` given what is known, or undefined. With `settle`, a read that
   * shows a put in doubt makes it the acknowledged one.
   */
  #check(tracked: Tracked, stored: StoredInstance | null, settle: boolean): string | undefined {
    const { id, acked, inDoubt } = tracked;
    const base = acked?.revision ?? 0;
    if (stored === null) {
      if (acked) return `${id}: acknowledged revision ${acked.revision} is missing`;
      if (settle) tracked.inDoubt = []; // none of them was applied, and none can be any more
      return undefined;
    }
    const content = withoutBookkeeping(stored);
    if (acked && stored.revision === acked.revision) {
      if (!same(content, acked.instance)) return `${id}: revision ${base} changed`;
      if (settle) tracked.inDoubt = [];
      return undefined;
    }
    const index = inDoubt.findIndex((candidate) => same(content, candidate));
    const match = inDoubt[index];
    if (match === undefined || stored.revision <= base || stored.revision > base + index + 1) {
      return `${id}: revision ${stored.revision} is neither the acknowledged ${base} nor a put in doubt`;
    }
    if (settle) {
      tracked.acked = { revision: stored.revision, instance: match };
      tracked.inDoubt = inDoubt.slice(index + 1);
      this.stats.appliedInDoubt++;
    }
    return undefined;
  }

  /** A new version of an instance, different from every other put. */
  #next(id: string, caller = -1): WorkflowInstance {
    const seq = ++this.#seq;
    const instance = newInstance({
      id,
      workflow: "Fault.Load",
      initial: { caller, seq, at: new Date(1_700_000_000_000 + seq), big: BigInt(seq) * 3n },
    });
    instance.status = STATUSES[seq % STATUSES.length] ?? "pending";
    instance.context.steps = { filler: `${seq}:${this.#payload}`, tags: new Set([`s${seq}`]) };
    instance.activeSteps = new Set([`step-${seq % 7}`]);
    return instance;
  }
}

function same(a: WorkflowInstance, b: WorkflowInstance): boolean {
  try {
    assert.deepStrictEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

/** Resolves after `ms` milliseconds. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
