/**
 * WebSocket without Nagle's algorithm, for timing Neon's WebSocket mode on loopback: a minimal
 * client class for `neonConfig.webSocketConstructor` and a WebSocket-to-TCP proxy speaking the
 * same `/v1?address=host:port` protocol as cli/neon_local/ws_proxy.ts, both on plain TCP
 * sockets with TCP_NODELAY, each frame written in one write.
 *
 * Why: Deno's own `WebSocket` client and `Deno.upgradeWebSocket` server leave Nagle's algorithm
 * on. A frame written in two parts (above roughly 1 KB), or two frames back to back, then waits
 * for the peer's delayed ACK: about 40 ms on Linux loopback. A 2 KB put through the test
 * suite's proxy takes ~48 ms instead of ~1 ms, which would measure the socket, not the driver.
 * Neon's proxy sets TCP_NODELAY; so do these. RFC 6455 subset: binary and text messages,
 * fragmentation, ping/pong, close. No TLS, no extensions: benchmarks only.
 *
 * @module
 */

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Sec-WebSocket-Accept for a key. */
async function acceptKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", encoder.encode(key + GUID));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

/** One WebSocket frame, header and (masked, for a client) payload in one buffer. */
function frame(opcode: number, payload: Uint8Array, masked: boolean): Uint8Array {
  const length = payload.length;
  const extended = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const out = new Uint8Array(2 + extended + (masked ? 4 : 0) + length);
  out[0] = 0x80 | opcode;
  out[1] = (masked ? 0x80 : 0) | (extended === 0 ? length : extended === 2 ? 126 : 127);
  const view = new DataView(out.buffer);
  if (extended === 2) view.setUint16(2, length);
  if (extended === 8) view.setBigUint64(2, BigInt(length));
  let offset = 2 + extended;
  if (masked) {
    const mask = crypto.getRandomValues(new Uint8Array(4));
    out.set(mask, offset);
    offset += 4;
    out.set(payload, offset);
    applyMask(out.subarray(offset), mask);
  } else out.set(payload, offset);
  return out;
}

/** XORs `data` in place with a 4-byte masking key (RFC 6455 §5.3): it masks and unmasks. */
function applyMask(data: Uint8Array, mask: Uint8Array): void {
  const bytes = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const key = new DataView(mask.buffer, mask.byteOffset, 4);
  for (let i = 0; i < data.length; i++) bytes.setUint8(i, bytes.getUint8(i) ^ key.getUint8(i & 3));
}

/** A growable read buffer over a connection. */
class Reader {
  #conn: Deno.Conn;
  #buffer = new Uint8Array(64 * 1024);
  #chunk = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;

  constructor(conn: Deno.Conn, initial?: Uint8Array) {
    this.#conn = conn;
    if (initial) this.#append(initial);
  }

  get available(): number {
    return this.#end - this.#start;
  }

  peek(): Uint8Array {
    return this.#buffer.subarray(this.#start, this.#end);
  }

  consume(n: number): void {
    this.#start += n;
  }

  #append(bytes: Uint8Array): void {
    if (this.#end + bytes.length > this.#buffer.length) {
      const size = Math.max(this.#buffer.length, (this.available + bytes.length) * 2);
      const next = new Uint8Array(size);
      next.set(this.peek());
      this.#end -= this.#start;
      this.#start = 0;
      this.#buffer = next;
    }
    this.#buffer.set(bytes, this.#end);
    this.#end += bytes.length;
  }

  /** Reads more; false at end of stream. */
  async fill(): Promise<boolean> {
    if (this.#start === this.#end) this.#start = this.#end = 0;
    const n = await this.#conn.read(this.#chunk);
    if (n === null) return false;
    this.#append(this.#chunk.subarray(0, n));
    return true;
  }

  /** Reads up to the end of the HTTP head; returns it (the rest stays buffered). */
  async head(): Promise<string | null> {
    for (;;) {
      const text = decoder.decode(this.peek());
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        const headBytes = encoder.encode(text.slice(0, end + 4)).length;
        this.consume(headBytes);
        return text.slice(0, end);
      }
      if (!(await this.fill())) return null;
    }
  }

  /** Reads one frame: opcode, FIN and the unmasked payload; null at end of stream. */
  async frame(): Promise<{ opcode: number; fin: boolean; payload: Uint8Array } | null> {
    for (;;) {
      const bytes = this.peek();
      if (bytes.length >= 2) {
        const header = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        const first = header.getUint8(0);
        const masked = (header.getUint8(1) & 0x80) !== 0;
        let length = header.getUint8(1) & 0x7f;
        let offset = 2;
        if (length === 126) {
          if (bytes.length < 4) length = -1;
          else {
            length = header.getUint16(2);
            offset = 4;
          }
        } else if (length === 127) {
          if (bytes.length < 10) length = -1;
          else {
            length = Number(header.getBigUint64(2));
            offset = 10;
          }
        }
        const total = offset + (masked ? 4 : 0) + length;
        if (length >= 0 && bytes.length >= total) {
          const payload = bytes.slice(offset + (masked ? 4 : 0), total);
          if (masked) applyMask(payload, bytes.subarray(offset, offset + 4));
          this.consume(total);
          return { opcode: first & 0x0f, fin: (first & 0x80) !== 0, payload };
        }
      }
      if (!(await this.fill())) return null;
    }
  }
}

/** Writes to a connection one buffer at a time, in order, whole. */
class Writer {
  #conn: Deno.Conn;
  #queue: Promise<void> = Promise.resolve();

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  write(bytes: Uint8Array): Promise<void> {
    this.#queue = this.#queue.then(async () => {
      for (let sent = 0; sent < bytes.length;) {
        sent += await this.#conn.write(bytes.subarray(sent));
      }
    });
    return this.#queue;
  }
}

/**
 * A `WebSocket` client on a TCP_NODELAY socket, with the subset of the standard API Neon's
 * driver uses (`binaryType`, `send`, `close`, `readyState`, open/message/close/error events).
 */
export class NoDelayWebSocket extends EventTarget {
  /** Always "arraybuffer" in effect; kept for the API. */
  binaryType: BinaryType = "arraybuffer";
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readyState = 0;
  /** The URL. */
  readonly url: string;
  #conn: Deno.Conn | undefined;
  #writer: Writer | undefined;
  #closed = false;

  constructor(url: string | URL) {
    super();
    this.url = String(url);
    this.#open(new URL(this.url)).catch((error) => this.#fail(error));
  }

  async #open(url: URL): Promise<void> {
    const port = Number(url.port || 80);
    const conn = await Deno.connect({ hostname: url.hostname, port });
    conn.setNoDelay(true);
    this.#conn = conn;
    this.#writer = new Writer(conn);
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    await this.#writer.write(encoder.encode(
      `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n` +
        `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n` +
        `Sec-WebSocket-Version: 13\r\n\r\n`,
    ));
    const reader = new Reader(conn);
    const head = await reader.head();
    if (head === null || !/^HTTP\/1\.1 101 /.test(head)) {
      throw new Error(`WebSocket upgrade refused: ${head?.split("\r\n")[0] ?? "no answer"}`);
    }
    const accept = /\r\nsec-websocket-accept:\s*(\S+)/i.exec(head)?.[1];
    if (accept !== await acceptKey(key)) throw new Error("WebSocket upgrade: bad accept key");
    this.readyState = 1;
    this.dispatchEvent(new Event("open"));
    let parts: Uint8Array[] = [];
    let opcode = 2;
    for (;;) {
      const next = await reader.frame().catch(() => null);
      if (next === null) break;
      if (next.opcode === 8) {
        await this.#writer.write(frame(8, new Uint8Array(0), true)).catch(() => {});
        break;
      }
      if (next.opcode === 9) {
        await this.#writer.write(frame(10, next.payload, true));
        continue;
      }
      if (next.opcode === 10) continue;
      if (next.opcode !== 0) opcode = next.opcode;
      parts.push(next.payload);
      if (!next.fin) continue;
      const [only, ...more] = parts;
      const payload = only && more.length === 0 ? only : concat(parts);
      parts = [];
      const data = opcode === 1
        ? decoder.decode(payload)
        : payload.buffer.slice(payload.byteOffset, payload.byteOffset + payload.byteLength);
      this.dispatchEvent(new MessageEvent("message", { data }));
    }
    this.#finish();
  }

  /** Sends one message (binary, or text for a string) in one frame and one write. */
  send(data: string | ArrayBuffer | ArrayBufferView): void {
    if (this.readyState !== 1 || !this.#writer) throw new Error("WebSocket is not open");
    const [opcode, payload] = typeof data === "string"
      ? [1, encoder.encode(data)]
      : data instanceof ArrayBuffer
      ? [2, new Uint8Array(data)]
      : [2, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)];
    this.#writer.write(frame(opcode, payload, true)).catch((error) => this.#fail(error));
  }

  /** Sends a close frame and closes the socket. */
  close(): void {
    if (this.readyState >= 2) return;
    this.readyState = 2;
    const writer = this.#writer;
    if (!writer) return this.#finish();
    writer.write(frame(8, new Uint8Array(0), true)).catch(() => {}).finally(() => this.#finish());
  }

  #fail(error: unknown): void {
    if (this.#closed) return;
    this.dispatchEvent(new ErrorEvent("error", { error, message: String(error) }));
    this.#finish();
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.readyState = 3;
    try {
      this.#conn?.close();
    } catch { /* already closed */ }
    this.dispatchEvent(new CloseEvent("close", { code: 1000, wasClean: true }));
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** A running proxy. */
export interface NoDelayProxy {
  /** Its port on 127.0.0.1. */
  port: number;
  /** Stops listening and cuts the piped connections. */
  close(): void;
}

/**
 * Starts a WebSocket-to-TCP proxy on a free port of 127.0.0.1: a WebSocket at
 * `/v1?address=host:port` (or `/v2`) is paired with one TCP connection to that address, raw
 * bytes piped both ways, TCP_NODELAY on both sockets, each chunk one binary frame.
 */
export function startNoDelayProxy(): NoDelayProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const live = new Set<Deno.Conn>();
  (async () => {
    for await (const conn of listener) serve(conn, live).catch(() => {});
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close() {
      listener.close();
      for (const conn of live) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
    },
  };
}

async function serve(client: Deno.TcpConn, live: Set<Deno.Conn>): Promise<void> {
  client.setNoDelay(true);
  live.add(client);
  const reply = new Writer(client);
  const reader = new Reader(client);
  const head = await reader.head();
  const refuse = async (status: string) => {
    await reply.write(encoder.encode(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\n\r\n`));
    client.close();
    live.delete(client);
  };
  if (head === null) return refuse("400 Bad Request");
  const path = /^GET (\S+) HTTP\/1\.1/.exec(head)?.[1] ?? "";
  const key = /\r\nsec-websocket-key:\s*(\S+)/i.exec(head)?.[1];
  const url = new URL(path, "http://proxy");
  const target = /^(.+):(\d{1,5})$/.exec(url.searchParams.get("address") ?? "");
  if (!/^\/v[12]$/.test(url.pathname) || !key || !target) return refuse("400 Bad Request");
  const server = await Deno.connect({ hostname: target[1], port: Number(target[2]) })
    .catch(() => undefined);
  if (!server) return refuse("502 Bad Gateway");
  server.setNoDelay(true);
  live.add(server);
  const upstream = new Writer(server);
  await reply.write(encoder.encode(
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Accept: ${await acceptKey(key)}\r\n\r\n`,
  ));
  const end = () => {
    for (const conn of [client, server]) {
      live.delete(conn);
      try {
        conn.close();
      } catch { /* closed */ }
    }
  };
  const down = (async () => {
    const buffer = new Uint8Array(64 * 1024);
    for (;;) {
      const n = await server.read(buffer).catch(() => null);
      if (n === null) break;
      await reply.write(frame(2, buffer.subarray(0, n), false));
    }
  })();
  const up = (async () => {
    for (;;) {
      const next = await reader.frame().catch(() => null);
      if (next === null || next.opcode === 8) break;
      if (next.opcode === 9) await reply.write(frame(10, next.payload, false));
      else if (next.opcode !== 10) await upstream.write(next.payload);
    }
  })();
  await Promise.race([down, up]).catch(() => {});
  end();
}
