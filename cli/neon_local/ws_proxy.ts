/**
 * For development and tests (`neon-local`, the test suites): a WebSocket-to-TCP proxy, so the WebSocket mode of
 * `@neondatabase/serverless` (its `Pool` and `Client`) reaches a plain local PostgreSQL the way it
 * reaches Neon through Neon's proxy. Each WebSocket at `/v1?address=host:port` is paired with one
 * TCP connection to that address, and raw PostgreSQL protocol bytes are piped both ways, in
 * binary frames towards the client. No TLS, no authentication of its own: development and tests
 * only. With `only`, it pipes to that one address and refuses others (so it is no open relay).
 *
 * @module
 */
const GRACE_MS = 2000;

/** A running proxy. */
export interface WsProxy {
  /** The port it listens on (127.0.0.1). */
  port: number;
  /**
   * Stops the server once the piped connections have ended (clients closing their sockets after
   * `pool.end()`), cutting any still open after a grace period.
   */
  close(): Promise<void>;
  /** Cuts every piped connection now, as a network failure would. */
  cut(): void;
}

/** Where {@linkcode startWsProxy} listens, and what it may connect to. */
export interface ProxyOptions {
  /** The port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** Pipe only to this `host:port`; any by default. */
  only?: string;
}

/** Starts a proxy on 127.0.0.1 (a free port unless `port` is given). */
export function startWsProxy(options: ProxyOptions = {}): Promise<WsProxy> {
  const live = new Set<() => void>();
  const { promise, resolve } = Promise.withResolvers<WsProxy>();
  const cut = () => {
    for (const end of [...live]) end();
  };
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: options.port ?? 0,
    onListen: ({ port }) => resolve({ port, close, cut }),
  }, async (request) => {
    const url = new URL(request.url);
    if (url.pathname !== "/v1") return new Response("Not found", { status: 404 });
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("Expected a WebSocket upgrade", { status: 426 });
    }
    const target = /^(.+):(\d{1,5})$/.exec(url.searchParams.get("address") ?? "");
    if (!target) return new Response("Expected ?address=host:port", { status: 400 });
    if (options.only !== undefined && target[0] !== options.only) {
      return new Response(`This proxy serves only ${options.only}`, { status: 403 });
    }
    // Dial first: a server that cannot be reached refuses the upgrade, so the client learns it
    // could not connect (rather than that an open connection was lost).
    const conn = await Deno.connect({ hostname: target[1], port: Number(target[2]) }).catch(
      () => undefined,
    );
    if (!conn) return new Response(`Cannot reach ${target[0]}`, { status: 502 });
    const { socket, response } = Deno.upgradeWebSocket(request);
    pipe(socket, conn, live);
    return response;
  });
  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= (async () => {
      // pool.end() resolves before its sockets finish closing: let them, rather than cut them
      // while the client still writes (Deno then reports "Failed to send frame" on the pool).
      for (let waited = 0; live.size > 0 && waited < GRACE_MS; waited += 10) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      cut();
      await server.shutdown();
    })();
    return closing;
  }
  return promise;
}

/** Pairs one WebSocket with one TCP connection until either side ends. */
function pipe(ws: WebSocket, conn: Deno.TcpConn, live: Set<() => void>): void {
  ws.binaryType = "arraybuffer";
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    live.delete(end);
    try {
      conn.close();
    } catch { /* already closed */ }
    if (ws.readyState === WebSocket.OPEN) ws.close();
  };
  live.add(end);
  let writes: Promise<unknown> = Promise.resolve();
  ws.onopen = async () => {
    const buffer = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null || ended) break;
        ws.send(buffer.slice(0, n));
      }
    } catch { /* closed under us */ }
    end();
  };
  ws.onmessage = (event: MessageEvent) => {
    const bytes = typeof event.data === "string"
      ? new TextEncoder().encode(event.data)
      : new Uint8Array(event.data as ArrayBuffer);
    writes = writes.then(async () => {
      for (let sent = 0; sent < bytes.length;) sent += await conn.write(bytes.subarray(sent));
    }).catch(end);
  };
  ws.onclose = end;
  ws.onerror = end;
}
