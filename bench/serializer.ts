/**
 * Section 6, the serializer alone (CPU, no database): `encodeInstance` + `decodeInstance` of
 * the 2 KB and 64 KB instances against `JSON.stringify` + `JSON.parse` of the same data in the
 * plain form a hand-written store would use.
 *
 * Both pipelines include the `JSON.parse` a driver does when it reads jsonb, so they are what
 * each side costs between the object in hand and the text on the wire, both ways.
 *
 * @module
 */

import { decodeInstance, encodeInstance } from "../mod.ts";
import { itemsFor, orderInstance, plainState, SIZES } from "./fixtures.ts";
import { type BenchSettings, median, micro, ms, ratio } from "./measure.ts";

/** The serializer's costs for one size, median ms per call. */
export interface SerializerRow {
  /** "2 KB" or "64 KB". */
  size: string;
  /** Length of the encoded state. */
  stateChars: number;
  /** Length of `JSON.stringify` of the plain state. */
  plainChars: number;
  /** `encodeInstance`. */
  encode: number;
  /** `JSON.stringify` of the plain state. */
  stringify: number;
  /** `JSON.parse` of the encoded state (what the driver does for PgStorage). */
  parseEncoded: number;
  /** `decodeInstance` of the parsed row, without the parse. */
  decode: number;
  /** `JSON.parse` of the plain JSON. */
  parsePlain: number;
  /** encode + parse + decode. */
  lib: number;
  /** stringify + parse. */
  plain: number;
  /** lib / plain. */
  ratio: number;
  /** Strings and object keys in the state (each checked for NUL and lone surrogates). */
  strings: number;
  /** The encoder's storability check of every string and key (`includes` + `isWellFormed`). */
  stringChecks: number;
  /** The same check done once on the JSON text instead (a regex for the escapes it would hold). */
  textScan: number;
}

/** Every string and key of a JSON value. */
function stringsOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) { for (const item of value) stringsOf(item, out); }
  else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      out.push(key);
      stringsOf(item, out);
    }
  }
  return out;
}

/**
 * NUL and lone surrogates as `JSON.stringify` writes them: `\u0000` and `\udXXX` escapes (it
 * writes every other character, valid surrogate pairs included, as itself), not preceded by an
 * escaped backslash.
 */
const UNSTORABLE_ESCAPE = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/i;

/** Measures both sizes. */
export function measureSerializer(settings: BenchSettings): SerializerRow[] {
  const rows: SerializerRow[] = [];
  const iterations = settings.iterations;
  const warmup = settings.warmup;
  for (const size of SIZES) {
    const instance = orderInstance("order::bench", itemsFor(size.bytes), "running");
    const encoded = encodeInstance(instance).state;
    const plainText = JSON.stringify(plainState(instance));
    const batch = Math.ceil(128 * 1024 / encoded.length);
    const epoch = "1736937000000";
    const row = {
      id: instance.id,
      workflow: instance.workflow,
      workflow_version: "3",
      status: instance.status,
      revision: "7",
      inserted_at: epoch,
      updated_at: epoch,
      lease_owner: null,
      lease_expires_at: null,
    };
    const time = (fn: () => unknown) => micro(fn, batch, iterations, warmup);
    const encode = time(() => encodeInstance(instance));
    const stringify = time(() => JSON.stringify(plainState(instance)));
    const parseEncoded = time(() => JSON.parse(encoded));
    const parsePlain = time(() => JSON.parse(plainText));
    // decodeInstance revives values in place, so each call needs a freshly parsed state: parse
    // each batch's states before its clock starts.
    const decodeSamples: number[] = [];
    for (let i = 0; i < warmup + iterations; i++) {
      const states = Array.from({ length: batch }, () => JSON.parse(encoded));
      const start = performance.now();
      for (const state of states) decodeInstance({ ...row, state });
      if (i >= warmup) decodeSamples.push((performance.now() - start) / batch);
    }
    const decode = median(decodeSamples);
    const strings = stringsOf(JSON.parse(plainText));
    const stringChecks = time(() => {
      let ok = true;
      for (const text of strings) ok = ok && !text.includes("\u0000") && text.isWellFormed();
      return ok;
    });
    const textScan = time(() => UNSTORABLE_ESCAPE.test(encoded));
    const lib = encode + parseEncoded + decode;
    const plain = stringify + parsePlain;
    rows.push({
      size: size.label,
      stateChars: encoded.length,
      plainChars: plainText.length,
      encode,
      stringify,
      parseEncoded,
      decode,
      parsePlain,
      lib,
      plain,
      ratio: lib / plain,
      strings: strings.length,
      stringChecks,
      textScan,
    });
    settings.log(
      `serializer: ${size.label}: encode+decode ${ms(lib)} ms, stringify+parse ${ms(plain)} ms, ` +
        `ratio ${ratio(lib / plain)}`,
    );
  }
  return rows;
}
