/**
 * Test-side settings for the local Neon stand-ins of cli/neon_local/: points the process-wide
 * `neonConfig` of `@neondatabase/serverless` at a local WebSocket proxy.
 *
 * @module
 */
import { neonConfig } from "@neondatabase/serverless";

/**
 * Points the WebSocket mode of `@neondatabase/serverless` at a local proxy (process-wide
 * `neonConfig`): plain `ws://`, no TLS pipelining, and no pipelined connect (its default sends the
 * password before the server asks, which SCRAM refuses).
 */
export function useLocalWsProxy(proxyPort: number): void {
  neonConfig.wsProxy = (host: string, port: number | string) =>
    `127.0.0.1:${proxyPort}/v1?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
}
