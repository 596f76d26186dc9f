/// <reference lib="dom" />
/**
 * One instance: badges, fields, a failed instance's error and last events up front, the
 * history as a timeline, and its data as typed text (a Date, BigInt, Set, Map or bytes shows as
 * what the serializer recorded).
 *
 * @example
 * ```ts ignore
 * import { renderInstance } from "./instance.ts";
 *
 * await renderInstance(encodeURIComponent("order::1"), "#/");
 * ```
 *
 * @module
 */

import type { InstanceAnswer } from "../api.ts";
import { $, age, api, type Child, dash, duration, EVENTS, h, statusBadge } from "./dom.ts";

const TEXTS = [
  "inst-id",
  "inst-history-count",
  "copy-done",
  "inst-failure-where",
  "inst-failure-error",
];
const LISTS = ["inst-badges", "inst-fields", "inst-timeline", "inst-last"];
const DATA = ["inst-initial", "inst-steps", "inst-configs", "inst-runtime", "inst-telemetry"];

/**
 * Shows the instance a link names.
 *
 * @param encodedId The id, URI-encoded as in the address.
 * @param back Where "Back" leads (the list as it was).
 */
export async function renderInstance(encodedId: string, back: string): Promise<void> {
  let id;
  try {
    id = decodeURIComponent(encodedId);
  } catch (_) {
    throw new Error("This link does not name an instance");
  }
  $("back").setAttribute("href", back);
  for (const target of TEXTS) $(target).textContent = "";
  for (const target of LISTS) $(target).replaceChildren();
  $("inst-failure").hidden = true;
  for (const target of DATA) $(target).textContent = "";
  $("inst-id").textContent = id;
  const d = await api<InstanceAnswer>("api/instance", { id });
  const now = d.now;
  $("inst-badges").replaceChildren(
    statusBadge(d.status),
    h("span", { class: "badge plain" }, d.workflow + "@" + d.workflowVersion),
    h("span", { class: "badge plain" }, "revision " + d.revision),
  );
  const when = (
    iso: string,
  ) => [iso, " ", h("span", { class: "muted" }, "(" + age(iso, now) + ")")];
  const steps = (names: string[]) => names.length ? names.join(", ") : dash();
  const fields: [string, Child | Child[]][] = [
    ["Workflow", d.workflow],
    ["Version", String(d.workflowVersion)],
    ["Current step", d.currentStep === null ? dash() : d.currentStep],
    ["Inserted", when(d.insertedAt)],
    ["Updated", when(d.updatedAt)],
    ["Lease holder", d.lease ? d.lease.owner : "none"],
    [
      "Lease expires",
      d.lease
        ? [
          d.lease.expiresAt,
          " ",
          d.lease.expired
            ? h("span", { class: "expired" }, "(expired " + age(d.lease.expiresAt, now) + ")")
            : h(
              "span",
              { class: "muted" },
              "(in " + duration(Date.parse(d.lease.expiresAt) - Date.parse(now)) + ")",
            ),
        ]
        : dash(),
    ],
    ["Active steps", steps(d.activeSteps)],
    ["Completed steps", steps(d.completedSteps)],
  ];
  $("inst-fields").replaceChildren(
    ...fields.flatMap(([label, value]) => [h("dt", null, label), h("dd", null, value)]),
  );

  const history = d.executionHistory;
  const first = history[0];
  const last = history[history.length - 1];
  $("inst-history-count").textContent = "(" + history.length + " entr" +
    (history.length === 1 ? "y" : "ies") +
    (first && last && history.length > 1
      ? ", " + duration(Date.parse(last.timestamp) - Date.parse(first.timestamp)) +
        " from first to last"
      : "") +
    ")";
  const timeline = $("inst-timeline");
  if (history.length === 0) timeline.append(h("li", { class: "muted" }, "No history yet."));
  const typed = d.typed;
  if (d.status === "failed") {
    // The error up front: the last "failed" entry (else the last one), and the last events.
    let at = history.findLastIndex((entry) => entry.event === "failed");
    if (at === -1) at = history.length - 1;
    const entry = history[at];
    const error = typed.history[at];
    $("inst-failure-where").textContent = entry
      ? "at step " + entry.stepRef + ", " + entry.timestamp
      : "";
    $("inst-failure-error").textContent = entry && error !== null && error !== undefined
      ? error
      : "No error recorded in the history.";
    $("inst-last").replaceChildren(
      ...history.slice(-5).reverse().map((e) =>
        h(
          "li",
          null,
          h("span", { class: "mono" }, e.timestamp),
          " ",
          h("span", { class: "what" }, e.stepRef),
          " ",
          h("span", { class: "muted" }, e.event),
        )
      ),
    );
    if (history.length === 0) $("inst-last").append(h("li", { class: "muted" }, "No history yet."));
    $("inst-failure").hidden = false;
  }
  history.forEach((entry, index) => {
    const delta = entry.sincePreviousMs === null
      ? "start"
      : (entry.sincePreviousMs < 0 ? "−" : "+") + duration(entry.sincePreviousMs);
    const item = h(
      "li",
      { class: EVENTS.includes(entry.event) ? "ev-" + entry.event : "" },
      h("div", { class: "when" }, entry.timestamp, h("span", { class: "delta" }, delta)),
      h(
        "div",
        null,
        h("span", { class: "what" }, entry.stepRef),
        " ",
        h("span", { class: "muted" }, entry.event),
      ),
    );
    const updates = typed.history[index];
    if (updates !== null && updates !== undefined) {
      const box = h(
        "details",
        null,
        h("summary", null, "context updates"),
        h("pre", null, updates),
      );
      if (entry.event === "failed") box.open = true;
      item.append(box);
    }
    timeline.append(item);
  });
  $("inst-initial").textContent = typed.initial;
  $("inst-steps").textContent = typed.steps;
  $("inst-configs").textContent = typed.stepConfigs;
  $("inst-runtime").textContent = typed.runtimeMetadata;
  $("inst-telemetry").textContent = typed.telemetryMetadata;
}
