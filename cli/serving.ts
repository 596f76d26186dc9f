/**
 * What the serving commands (`dashboard`, `neon-local`) share: serving until SIGINT or SIGTERM,
 * and a one-line reason when a port cannot be listened on.
 *
 * @example
 * ```ts ignore
 * import { listenFailure, untilStopped } from "./serving.ts";
 *
 * await untilStopped(async (stopped) => {
 *   await stopped;
 *   await server.close();
 * });
 * ```
 *
 * @module
 */

const SIGNALS: Deno.Signal[] = ["SIGINT", "SIGTERM"];

/**
 * Runs `serve` with a promise that resolves on the first SIGINT or SIGTERM; the signal
 * listeners are removed when `serve` settles.
 *
 * @param serve The work; it should end soon after `stopped` resolves.
 * @returns What `serve` returns.
 */
export async function untilStopped<T>(serve: (stopped: Promise<void>) => Promise<T>): Promise<T> {
  const stopped = Promise.withResolvers<void>();
  const onSignal = () => stopped.resolve();
  for (const signal of SIGNALS) Deno.addSignalListener(signal, onSignal);
  try {
    return await serve(stopped.promise);
  } finally {
    for (const signal of SIGNALS) Deno.removeSignalListener(signal, onSignal);
  }
}

/**
 * Why listening failed, as a message: `address already in use`, else the error's message.
 *
 * @param where Such as `127.0.0.1:8787` or `127.0.0.1:4444 (HTTP endpoint)`.
 * @param error What `Deno.serve` or `Deno.listen` threw.
 * @returns An error saying `cannot listen on <where>: <reason>`.
 */
export function listenFailure(where: string, error: unknown): Error {
  const reason = error instanceof Deno.errors.AddrInUse
    ? "address already in use"
    : error instanceof Error
    ? error.message
    : String(error);
  return new Error(`cannot listen on ${where}: ${reason}`);
}
