/**
 * Bundling for the Node and Bun runtime tests: esbuild (platform node, format esm) with the
 * module's own imports, `@heph/pg` and `@heph/pg/<subpath>`, resolved to this repository's
 * source through `deno.json`'s exports — what `npm:@jsr/heph__pg` gives users, built from here
 * since JSR is out of reach. npm packages (pg, postgres) stay external and are installed with
 * npm next to the bundles, so the runtime loads them the way a user's app would.
 *
 * @module
 */
import * as esbuild from "npm:esbuild@^0.25.0";

/** The repository root, with a trailing slash. */
export const REPO_ROOT: URL = new URL("../../", import.meta.url);

const PACKAGE = "@heph/pg";

/**
 * An esbuild plugin mapping `@heph/pg` and its subpaths to the files `deno.json` exports.
 * An import of a subpath that is not exported fails the build, as it would for a user.
 */
export async function hephPgPlugin(): Promise<esbuild.Plugin> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", REPO_ROOT)));
  if (config.name !== PACKAGE) throw new Error(`deno.json names ${config.name}, not ${PACKAGE}`);
  const exports = config.exports as Record<string, string>;
  return {
    name: "heph-pg-from-source",
    setup(build) {
      build.onResolve({ filter: /^@heph\/pg(\/.*)?$/ }, (args) => {
        const subpath = `.${args.path.slice(PACKAGE.length)}`;
        const target = exports[subpath];
        if (target === undefined) {
          return { errors: [{ text: `${PACKAGE} does not export ${JSON.stringify(subpath)}` }] };
        }
        return { path: new URL(target, REPO_ROOT).pathname };
      });
    },
  };
}

/**
 * Bundles each entry to `<outdir>/<name>.mjs`; bare imports other than `@heph/pg` stay
 * external (Node built-ins and the npm packages installed in `outdir`).
 *
 * @param entries Output name → entry file (absolute path).
 * @param outdir Where the bundles go.
 * @returns Output name → bundle path.
 */
export async function bundle(
  entries: Record<string, string>,
  outdir: string,
): Promise<Record<string, string>> {
  try {
    await esbuild.build({
      entryPoints: entries,
      outdir,
      outExtension: { ".js": ".mjs" },
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      packages: "external",
      plugins: [await hephPgPlugin()],
      logLevel: "error",
    });
  } finally {
    await esbuild.stop();
  }
  return Object.fromEntries(Object.keys(entries).map((name) => [name, `${outdir}/${name}.mjs`]));
}

/**
 * Installs npm packages into `dir` (its own `package.json` and `node_modules`).
 *
 * @param dir The directory.
 * @param dependencies Package name → version range.
 */
export async function npmInstall(dir: string, dependencies: Record<string, string>): Promise<void> {
  const manifest = { private: true, type: "module", dependencies };
  await Deno.writeTextFile(`${dir}/package.json`, JSON.stringify(manifest, null, 2));
  const out = await new Deno.Command("npm", {
    args: ["install", "--no-audit", "--no-fund", "--loglevel=error"],
    cwd: dir,
    stdin: "null",
  }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr).trim();
    throw new Error(`npm install in ${dir} failed:\n${text}`);
  }
}
