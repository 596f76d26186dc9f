/**
 * Schema names: checked once, quoted once, in `validation.ts` with the other identifiers;
 * re-exported here for the modules that import them from this path.
 *
 * @module
 */

export { DEFAULT_SCHEMA, quoteSchema } from "./validation.ts";
