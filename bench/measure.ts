/**
 * Timing: interleaved runs of competing sides, medians and percentiles, CPU micro-benchmarks,
 * and the run's settings and progress log that every section shares.
 *
 * @module
 */

import { defined } from "./defined.ts";

/** Median, p90 and sample count of a set of timings, in milliseconds. */
export interface Timings {
  /** The median. */
  median: number;
  /** The 90th percentile. */
  p90: number;
  /** How many samples. */
  n: number;
}

/** What every section is given: how long to measure, where, and how to report progress. */
export interface BenchSettings {
  /** `--quick`: fewer repetitions, no million-row table. */
  quick: boolean;
  /** Timed repetitions per side of a latency comparison. */
  iterations: number;
  /** Untimed repetitions before them. */
  warmup: number;
  /** The PostgreSQL URL (the local server). */
  url: string;
  /**
   * `--no-sync-commit`: the peers and workflow sections' sessions run with
   * `synchronous_commit = off`, a diagnostic that takes the WAL flush (the same for every
   * system, and what a disk shared with other work makes noisy) out of each save.
   */
  asyncCommit?: boolean;
  /** When the run started (epoch ms): the progress clock's zero. */
  startedAt: number;
  /** Prints a progress line (prefixed with the elapsed time). */
  log(message: string): void;
}

/** The sample at `rank` (0-based) of `xs` in ascending order; throws when there are no samples. */
function ranked(xs: readonly number[], rank: number, what: string): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return defined(sorted[rank], `${what} of ${xs.length} samples`);
}

/** The median of `xs` (upper median for an even count). */
export function median(xs: readonly number[]): number {
  return ranked(xs, Math.floor(xs.length / 2), "the median");
}

/** The 90th percentile of `xs` (nearest rank). */
export function p90(xs: readonly number[]): number {
  return ranked(xs, Math.max(0, Math.ceil(xs.length * 0.9) - 1), "the 90th percentile");
}

/** Median, p90 and count of `xs`. */
export function summarize(xs: readonly number[]): Timings {
  return { median: median(xs), p90: p90(xs), n: xs.length };
}

/**
 * Runs every side once per iteration, in an order that rotates each iteration (so drift,
 * caches and autovacuum hit all sides alike), and returns each side's timings after warm-up.
 */
export async function interleave<K extends string>(
  sides: Record<K, () => Promise<unknown>>,
  iterations: number,
  warmup: number,
): Promise<Record<K, number[]>> {
  const names = Object.keys(sides) as K[];
  const times = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<
    K,
    number[]
  >;
  for (let i = 0; i < warmup + iterations; i++) {
    for (let k = 0; k < names.length; k++) {
      const name = defined(names[(i + k) % names.length], `side ${(i + k) % names.length}`);
      const start = performance.now();
      await sides[name]();
      const elapsed = performance.now() - start;
      if (i >= warmup) times[name].push(elapsed);
    }
  }
  return times;
}

/** Median time of one call of `fn` in milliseconds, timed in batches so short calls register. */
export function micro(
  fn: () => unknown,
  batch: number,
  iterations: number,
  warmup: number,
): number {
  const samples: number[] = [];
  for (let i = 0; i < warmup + iterations; i++) {
    const start = performance.now();
    for (let j = 0; j < batch; j++) fn();
    if (i >= warmup) samples.push((performance.now() - start) / batch);
  }
  return median(samples);
}

/** The progress clock: minutes and seconds since `startedAt`, as `[ m:ss]`. */
export function clock(startedAt: number): string {
  const s = Math.round((Date.now() - startedAt) / 1000);
  return `[${`${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`.padStart(5)}]`;
}

/** Milliseconds with three decimals. */
export const ms = (x: number): string => x.toFixed(3);

/** A ratio with two decimals. */
export const ratio = (x: number): string => x.toFixed(2);

/** An integer with thousands separators. */
export const int = (x: number): string => Math.round(x).toLocaleString("en-US");

/** A byte count in KiB, MiB or GiB. */
export function bytes(n: number): string {
  if (n < 10 * 1024) return `${int(n)} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 100 * 1024 ? 1 : 0)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** A markdown table. */
export function table(head: string[], align: string[], body: string[][]): string {
  return [head, align, ...body].map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}

/** Waits `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));
