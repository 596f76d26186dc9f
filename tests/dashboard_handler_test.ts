/**
 * The dashboard's request handler (`jsr:@heph/pg/dashboard`, cli/dashboard/handler.ts) in process, over MemoryStorage: it reads
 * only through the Storage contract, so any store serves it. The browser and the subprocess are
 * tested in tests/browser/dashboard_test.ts (`deno task test:browser`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { type CountGroup, MemoryStorage, newInstance } from "../mod.ts";
import { storeForeignRow } from "../src/memory_storage.ts";
import { dashboardHandler, SECURITY_HEADERS } from "../cli/dashboard/handler.ts";
import { typedText } from "../cli/typed_text.ts";

const TOKEN = "abcdefghijklmnop0123";

async function seeded(): Promise<MemoryStorage> {
  const storage = new MemoryStorage();
  for (let i = 1; i <= 5; i++) {
    const instance = newInstance({ id: `o::${i}`, workflow: i < 4 ? "Shop.Order" : "Bill.Pay" });
    instance.status = i % 2 ? "running" : "completed";
    await storage.put(instance);
  }
  return storage;
}

const get = (handler: (r: Request) => Promise<Response>, path: string, init?: RequestInit) =>
  handler(new Request(`http://127.0.0.1:8787${path}`, init));

Deno.test("dashboardHandler serves any Storage", async (t) => {
  const storage = await seeded();
  const errors: string[] = [];
  const handler = dashboardHandler(storage, {
    title: "memory",
    loopbackOnly: true,
    onError: (line) => errors.push(line),
  });

  await t.step("every response carries the security headers", async () => {
    for (const path of ["/", "/app.js", "/app.css", "/api/summary", "/nope", "/api/nope"]) {
      const response = await get(handler, path);
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
        assert.equal(response.headers.get(name), value, `${path} ${name}`);
      }
      await response.body?.cancel();
    }
  });

  await t.step("summary, pages with a cursor, one instance", async () => {
    const summary = await (await get(handler, "/api/summary")).json();
    assert.equal(summary.schema, "memory");
    assert.equal(summary.total, 5);
    assert.deepEqual(summary.counts, {
      pending: 0,
      running: 3,
      waiting: 0,
      completed: 2,
      failed: 0,
    });
    assert.deepEqual(summary.groups, [
      { workflow: "Bill.Pay", workflowVersion: 1, status: "completed", count: 1 },
      { workflow: "Bill.Pay", workflowVersion: 1, status: "running", count: 1 },
      { workflow: "Shop.Order", workflowVersion: 1, status: "completed", count: 1 },
      { workflow: "Shop.Order", workflowVersion: 1, status: "running", count: 2 },
    ]);

    const first = await (await get(handler, "/api/instances?family=Shop.&limit=2")).json();
    assert.deepEqual(first.items.map((i: { id: string }) => i.id), ["o::1", "o::2"]);
    assert.equal(first.total, 3);
    const second = await (await get(
      handler,
      `/api/instances?family=Shop.&limit=2&cursor=${first.nextCursor}`,
    )).json();
    assert.deepEqual(second.items.map((i: { id: string }) => i.id), ["o::3"]);
    assert.equal(second.nextCursor, null);

    const one = await (await get(handler, "/api/instance?id=o%3A%3A4")).json();
    assert.equal(one.workflow, "Bill.Pay");
    assert.deepEqual(one.executionHistory, []);
    const stuck = await (await get(handler, "/api/stuck?idle=1h")).json();
    assert.deepEqual(stuck.items, []);
    const leases = await (await get(handler, "/api/expired-leases")).json();
    assert.deepEqual([leases.items, leases.scanned, leases.nextCursor], [[], 3, null]);
  });

  await t.step("the URL's filters, alone and combined", async () => {
    const ids = async (query: string) => {
      const response = await get(handler, `/api/instances?${query}`);
      const body = await response.json();
      assert.equal(response.status, 200, `${query}: ${body.error}`);
      assert.equal(body.total, body.items.length, query);
      return body.items.map((i: { id: string }) => i.id);
    };
    assert.deepEqual(await ids("id=o%3A%3A2"), ["o::2"]);
    assert.deepEqual(await ids("idPrefix=o%3A%3A"), ["o::1", "o::2", "o::3", "o::4", "o::5"]);
    assert.deepEqual(await ids("idPrefix=o%3A%3A%25"), []); // % is literal
    assert.deepEqual(await ids("workflow=Shop.Order"), ["o::1", "o::2", "o::3"]);
    assert.deepEqual(await ids("workflow=Shop."), []); // exact, unlike family
    assert.deepEqual(await ids("version=1&workflow=Bill.Pay"), ["o::4", "o::5"]);
    assert.deepEqual(await ids("version=2"), []);
    assert.deepEqual(await ids("status=running,completed&workflow=Bill.Pay"), ["o::4", "o::5"]);
    assert.deepEqual(await ids("status=completed&idPrefix=o"), ["o::2", "o::4"]);
    assert.deepEqual(await ids("order=desc&workflow=Shop.Order"), ["o::3", "o::2", "o::1"]);
    const newest = await (await get(handler, "/api/instances?order=desc&limit=2")).json();
    assert.deepEqual(newest.items.map((i: { id: string }) => i.id), ["o::5", "o::4"]);
    const older = await (await get(
      handler,
      `/api/instances?order=desc&limit=2&cursor=${newest.nextCursor}`,
    )).json();
    assert.deepEqual(older.items.map((i: { id: string }) => i.id), ["o::3", "o::2"]);
    const past = "2000-01-01T00:00:00Z";
    const future = "2999-01-01T00:00:00Z";
    assert.deepEqual((await ids(`insertedAfter=${past}&insertedBefore=${future}`)).length, 5);
    assert.deepEqual(await ids(`updatedBefore=${past}`), []);
    assert.deepEqual(await ids(`updatedAfter=${future}`), []);
    assert.deepEqual(await ids(`insertedAfter=${future}`), []);
    assert.deepEqual(await ids("insertedBefore=2000-01-01"), []);
    const context = encodeURIComponent(JSON.stringify({ initial: {} }));
    assert.deepEqual(
      await ids(`context=${context}&status=running&workflow=Shop.Order&version=1`),
      ["o::1", "o::3"],
    );
  });

  await t.step("bad input is a 400 with the reason; a missing instance a 404", async () => {
    for (
      const [path, status, pattern] of [
        ["/api/instances?status=late", 400, /status expects/],
        ["/api/instances?since=yesterday", 400, /since expects a duration/],
        ["/api/instances?order=newest", 400, /order expects asc or desc/],
        ["/api/instances?version=two", 400, /version expects a whole number/],
        ["/api/instances?updatedAfter=yesterday", 400, /updatedAfter expects an ISO time/],
        ["/api/instances?insertedBefore=2026-02-31T25:00Z", 400, /insertedBefore expects/],
        ["/api/instances?context=%7Bnope", 400, /context expects a JSON document/],
        ["/api/instances?context=%7B%22x%22%3A1%7D", 400, /Invalid contextContains/],
        ["/api/instances?idPrefix=" + "x".repeat(300), 400, /Invalid idPrefix/],
        ["/api/instances?workflw=Shop", 400, /unknown parameter: "workflw"/],
        ["/api/instances?limit=5000", 400, /limit expects a number from 1 to 200/],
        ["/api/instances?cursor=forged", 400, /Invalid cursor/],
        ["/api/instance", 400, /id is required/],
        ["/api/instance?id=o::9", 404, /no instance with id "o::9"/],
        ["/api/frobnicate", 404, /no such endpoint/],
      ] as const
    ) {
      const response = await get(handler, path);
      assert.equal(response.status, status, path);
      assert.match((await response.json()).error, pattern);
    }
    assert.deepEqual(errors, []);
  });

  await t.step("read-only, and only for requests addressed to loopback", async () => {
    const post = await get(handler, "/api/summary", { method: "POST", body: "{}" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    await post.body?.cancel();
    // A page of another site whose name was rebound to 127.0.0.1 sends its own name as Host.
    const rebound = await handler(new Request("http://evil.example:8787/api/summary"));
    assert.equal(rebound.status, 403);
    await rebound.body?.cancel();
    const named = await handler(new Request("http://localhost:8787/api/summary"));
    assert.equal(named.status, 200);
    await named.body?.cancel();
  });
});

Deno.test("a corrupt row is flagged in every list, explained by /api/instance, never logged raw", async () => {
  const storage = await seeded();
  const id = "bad::\u001b]0;owned\u0007";
  storeForeignRow(storage, { id, status: "running", state: `{"active_steps": "x"}` });
  await new Promise((resolve) => setTimeout(resolve, 10)); // for the stuck view: idle 1 ms
  const errors: string[] = [];
  const handler = dashboardHandler(storage, { onError: (l) => errors.push(l) });
  const reason = "state.active_steps has the wrong type";
  for (const path of ["/api/instances", "/api/stuck?idle=1ms", "/api/expired-leases"]) {
    const response = await get(handler, path);
    assert.equal(response.status, 200, path);
    const body = await response.json();
    assert.deepEqual(body.corrupt, [{ id, reason }], path);
  }
  const list = await (await get(handler, "/api/instances")).json();
  assert.equal(list.items.length, 5, "the healthy rows are all there");
  assert.equal(list.total, 6);
  const one = await get(handler, `/api/instance?id=${encodeURIComponent(id)}`);
  assert.equal(one.status, 422);
  assert.equal(
    (await one.json()).error,
    `instance ${JSON.stringify(id)} cannot be read: ${reason}`,
  );
  assert.equal(errors.length, 0, errors.join("\n"));

  // An unexpected error that quotes stored data reaches the log escaped.
  class Failing extends MemoryStorage {
    override countGroups(): Promise<CountGroup[]> {
      return Promise.reject(new Error(`duplicate key (id)=(${id})`));
    }
  }
  const failing = dashboardHandler(new Failing(), { onError: (l) => errors.push(l) });
  const failed = await get(failing, "/api/summary");
  assert.equal(failed.status, 500);
  await failed.body?.cancel();
  assert.deepEqual(errors, [
    "error: /api/summary: duplicate key (id)=(bad::\\u001b]0;owned\\u0007)",
  ]);
});

Deno.test("dashboardHandler with a token", async () => {
  const handler = dashboardHandler(await seeded(), { token: TOKEN });
  const status = async (path: string, headers: Record<string, string> = {}) => {
    const response = await get(handler, path, { headers });
    await response.body?.cancel();
    return response.status;
  };
  assert.equal(await status("/"), 401);
  assert.equal(await status("/api/summary"), 401);
  assert.equal(await status(`/api/summary?token=${TOKEN}x`), 401);
  assert.equal(await status("/api/summary", { authorization: `Bearer ${TOKEN}` }), 200);
  assert.equal(await status("/api/summary", { cookie: `a=b; heph_dashboard_token=${TOKEN}` }), 200);
  assert.equal(await status(`/api/summary?token=${TOKEN}`), 200);

  const exchange = await get(handler, `//evil.example/?token=${TOKEN}`);
  assert.equal(exchange.status, 303);
  assert.equal(exchange.headers.get("location"), "/", "never redirects off the dashboard");
  assert.match(exchange.headers.get("set-cookie")!, /HttpOnly; SameSite=Strict; Path=\/$/);
});

Deno.test("dashboardHandler mounted under a base path, with defaults", async (t) => {
  const handler = dashboardHandler(await seeded(), { basePath: "/admin/workflows/" });

  await t.step(
    "serves the page, assets and API under the prefix, with relative links",
    async () => {
      const page = await get(handler, "/admin/workflows/");
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /<script src="app\.js" defer><\/script>/);
      assert.doesNotMatch(html, /(href|src)="\//, "no link escapes the prefix");
      const script = await get(handler, "/admin/workflows/app.js");
      assert.equal(script.status, 200);
      assert.match(script.headers.get("content-type")!, /javascript/);
      await script.body?.cancel();
      const summary = await (await get(handler, "/admin/workflows/api/summary")).json();
      assert.equal(summary.total, 5);
      assert.equal(summary.schema, "storage", "the default title of a store without a schema");
    },
  );

  await t.step("the prefix alone redirects to the page; other paths are 404", async () => {
    const bare = await get(handler, "/admin/workflows?x=1");
    assert.equal(bare.status, 308);
    assert.equal(bare.headers.get("location"), "/admin/workflows/?x=1");
    for (const path of ["/", "/api/summary", "/admin/workflowsX/api/summary", "/admin"]) {
      const response = await get(handler, path);
      assert.equal(response.status, 404, path);
      assert.equal(response.headers.get("x-frame-options"), "DENY");
      await response.body?.cancel();
    }
  });

  await t.step("the token cookie is scoped to the prefix", async () => {
    const guarded = dashboardHandler(await seeded(), { basePath: "/ops", token: TOKEN });
    const exchange = await get(guarded, `/ops/?token=${TOKEN}`);
    assert.equal(exchange.status, 303);
    assert.equal(exchange.headers.get("location"), "/ops/");
    assert.match(exchange.headers.get("set-cookie")!, /; Path=\/ops\/$/);
  });

  await t.step("a bad base path or token is refused at once", () => {
    assert.throws(() => dashboardHandler(new MemoryStorage(), { basePath: "admin" }), TypeError);
    assert.throws(() => dashboardHandler(new MemoryStorage(), { basePath: "//x" }), TypeError);
    assert.throws(() => dashboardHandler(new MemoryStorage(), { token: "short" }), TypeError);
    assert.throws(
      () => dashboardHandler(new MemoryStorage(), { token: "a".repeat(20) + ";Path=/" }),
      TypeError,
    );
  });
});

Deno.test("typedText keeps the type the serializer recorded, and strings stay JSON strings", () => {
  const value = {
    at: new Date("2025-03-01T10:00:00.000Z"),
    big: -12n,
    set: new Set([1]),
    map: new Map<unknown, unknown>([[new Date(0), "x"]]),
    raw: new Uint8Array([255]),
    odd: [undefined, NaN, -0, Infinity, null, '<b>"</b>'],
    empty: [{}, [], new Set(), new Map()],
  };
  assert.equal(
    typedText(value),
    `{
  "at": Date(2025-03-01T10:00:00.000Z),
  "big": -12n,
  "set": Set [
    1
  ],
  "map": Map {
    Date(1970-01-01T00:00:00.000Z) => "x"
  },
  "raw": bytes(1) /w==,
  "odd": [
    undefined,
    NaN,
    -0,
    Infinity,
    null,
    "<b>\\"</b>"
  ],
  "empty": [
    {},
    [],
    Set [],
    Map {}
  ]
}`,
  );
  assert.equal(typedText(new Date(NaN)), "Date(invalid)");
});

Deno.test("a slow summary count is reused and shared, and says when it was counted", async () => {
  let counts = 0;
  class Slow extends MemoryStorage {
    override async countGroups(): Promise<CountGroup[]> {
      counts++;
      await new Promise((resolve) => setTimeout(resolve, 250)); // longer than SLOW_SUMMARY_MS
      return await super.countGroups({});
    }
  }
  const storage = new Slow();
  await storage.put(newInstance({ id: "a", workflow: "W" }));
  const handler = dashboardHandler(storage);
  const [first, second] = await Promise.all([
    get(handler, "/api/summary").then((r) => r.json()),
    get(handler, "/api/summary").then((r) => r.json()),
  ]);
  assert.equal(counts, 1, "concurrent requests share one count");
  assert.equal(first.total, 1);
  assert.equal(first.cached, false);
  assert.ok(first.tookMs >= 200, String(first.tookMs));
  assert.equal(second.countedAt, first.countedAt);
  await storage.put(newInstance({ id: "b", workflow: "W" }));
  const third = await (await get(handler, "/api/summary")).json();
  assert.equal(counts, 1, "reused, not counted again");
  assert.deepEqual([third.cached, third.total, third.countedAt], [true, 1, first.countedAt]);

  // A fast count is made on every request.
  const fast = new MemoryStorage();
  const quick = dashboardHandler(fast);
  assert.equal((await (await get(quick, "/api/summary")).json()).total, 0);
  await fast.put(newInstance({ id: "c", workflow: "W" }));
  const again = await (await get(quick, "/api/summary")).json();
  assert.deepEqual([again.total, again.cached], [1, false]);
});
