/**
 * cli/dashboard/client_bundle.ts is generated from cli/dashboard/client/ by
 * `deno task build:dashboard`; this test fails while it is stale (the client changed and the
 * task was not run), so the published package always serves the script its source says.
 *
 * @module
 */
import assert from "node:assert/strict";
import { BUNDLE_PATH, bundleDashboard } from "../tools/bundle_dashboard.ts";

Deno.test("the dashboard's generated script is the bundle of cli/dashboard/client/", async () => {
  const stored = await Deno.readTextFile(new URL(`../${BUNDLE_PATH}`, import.meta.url));
  assert.ok(
    stored === await bundleDashboard(),
    `${BUNDLE_PATH} is stale: run deno task build:dashboard and commit the result`,
  );
});
