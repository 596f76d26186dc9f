/**
 * How the published command line is invoked, for its help texts and messages.
 *
 * @module
 */

/** The command that runs the published CLI (`cli/main.ts`) from JSR. */
export const PROGRAM = "deno run -A jsr:@heph/pg/cli";
