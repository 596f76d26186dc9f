/**
 * Runs the WebSocket-to-TCP proxies for Neon's WebSocket mode in a worker thread, so that
 * their work does not run on the thread being timed: the bench's TCP_NODELAY proxy
 * (bench/ws_nodelay.ts) and, for comparison, the test suite's (cli/neon_local/ws_proxy.ts, on
 * Deno's WebSocket server). Posts `{ port, denoPort }` once listening; on the message
 * `"close"`, closes both and posts `{ closed: true }`.
 *
 * @module
 */

import { startWsProxy } from "../cli/neon_local/ws_proxy.ts";
import { startNoDelayProxy } from "./ws_nodelay.ts";

const scope = globalThis as unknown as {
  postMessage(message: unknown): void;
  onmessage: ((event: MessageEvent) => void) | null;
};

const nodelay = startNoDelayProxy();
const deno = await startWsProxy();
scope.onmessage = async (event) => {
  if (event.data !== "close") return;
  nodelay.close();
  await deno.close();
  scope.postMessage({ closed: true });
};
scope.postMessage({ port: nodelay.port, denoPort: deno.port });
