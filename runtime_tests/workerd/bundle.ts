/**
 * Bundles a Cloudflare Worker written in this repository into one ES module for workerd, with
 * esbuild (format esm, platform browser, conditions `workerd`, `worker`, `browser`, as Wrangler
 * does):
 *
 * - `@heph/pg` and `@heph/pg/<subpath>` resolve to this repository's source through
 *   `deno.json`'s exports (what users get from JSR, which is out of reach here);
 * - other bare imports resolve through `deno.json`'s import map to npm packages in Deno's npm
 *   cache (located with `deno info --json`, linked into a temporary `node_modules` so esbuild
 *   applies their `exports` and conditions itself); nothing is written to the repository;
 * - `node:*` and `cloudflare:*` stay external: workerd provides them (`nodejs_compat`).
 *
 * @module
 */
import { builtinModules } from "node:module";
import * as esbuild from "npm:esbuild@^0.25.0";

/** The repository root, with a trailing slash. */
export const REPO_ROOT: URL = new URL("../../", import.meta.url);

const PACKAGE = "@heph/pg";

interface DenoJson {
  name: string;
  exports: Record<string, string>;
  imports: Record<string, string>;
}

interface NpmPackageInfo {
  name: string;
  dependencies: string[];
  localPath: string;
}

/**
 * Bundles `entry` for workerd.
 *
 * @param entry The worker's entry module (absolute path).
 * @returns The bundle's source: an ES module whose default export is the handler.
 */
export async function bundleWorker(entry: string): Promise<string> {
  const config: DenoJson = JSON.parse(await Deno.readTextFile(new URL("deno.json", REPO_ROOT)));
  const linkDir = await Deno.makeTempDir({ prefix: "heph-workerd-npm-" });
  try {
    const result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      format: "esm",
      platform: "browser",
      conditions: ["workerd", "worker", "browser"],
      target: "es2022",
      external: ["cloudflare:*"],
      // Where imports made inside npm packages find their dependencies.
      nodePaths: [`${linkDir}/node_modules`],
      plugins: [fromRepository(config, linkDir)],
      logLevel: "silent",
    });
    const [output] = result.outputFiles;
    if (!output) throw new Error(`esbuild wrote no bundle: ${entry}`);
    return output.text;
  } finally {
    await esbuild.stop();
    await Deno.remove(linkDir, { recursive: true });
  }
}

/** The esbuild plugin: `@heph/pg` from source, npm packages from Deno's cache. */
function fromRepository(config: DenoJson, linkDir: string): esbuild.Plugin {
  if (config.name !== PACKAGE) throw new Error(`deno.json names ${config.name}, not ${PACKAGE}`);
  const linked = new Map<string, Promise<void>>();
  const packageDirs: string[] = [];
  const again = Symbol("resolve through node_modules");
  return {
    name: "heph-pg-workerd",
    setup(build) {
      build.onResolve({ filter: /^@heph\/pg(\/.*)?$/ }, (args) => {
        const subpath = `.${args.path.slice(PACKAGE.length)}`;
        const target = config.exports[subpath];
        if (target === undefined) {
          return { errors: [{ text: `${PACKAGE} does not export ${JSON.stringify(subpath)}` }] };
        }
        return { path: new URL(target, REPO_ROOT).pathname };
      });
      build.onLoad({ filter: /.*/, namespace: "node-require" }, (args) => ({
        contents: `import m from ${JSON.stringify(args.path)};\nmodule.exports = m;`,
        loader: "js",
      }));
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === again || args.path.startsWith("cloudflare:")) return undefined;
        // Node built-ins, with or without `node:` (npm:pg omits it): workerd's (nodejs_compat).
        // A `require()` of one becomes a small module importing it, as Wrangler does, since
        // an ES module bundle cannot require an external.
        const builtin = args.path.replace(/^node:/, "");
        if (builtinModules.includes(builtin)) {
          return args.kind === "require-call"
            ? { path: `node:${builtin}`, namespace: "node-require" }
            : { path: `node:${builtin}`, external: true };
        }
        // Inside an npm package: esbuild's own resolution, through nodePaths.
        if (packageDirs.some((dir) => args.importer.startsWith(`${dir}/`))) return undefined;
        const name = packageName(args.path);
        const mapped = config.imports[name];
        if (!mapped?.startsWith("npm:")) {
          return { errors: [{ text: `${name} is not an npm: import of deno.json` }] };
        }
        if (!linked.has(name)) linked.set(name, linkNpmPackage(mapped, linkDir, packageDirs));
        await linked.get(name);
        // Let esbuild resolve it as a package from the linked node_modules (exports, conditions).
        return await build.resolve(args.path, {
          kind: args.kind,
          resolveDir: linkDir,
          importer: args.importer,
          pluginData: again,
        });
      });
    },
  };
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
function packageName(specifier: string): string {
  return specifier.split("/").slice(0, specifier.startsWith("@") ? 2 : 1).join("/");
}

/**
 * Links an npm package and its dependencies from Deno's npm cache into
 * `<linkDir>/node_modules` (flat: fine for the dependency-free packages workers use here).
 */
async function linkNpmPackage(
  specifier: string,
  linkDir: string,
  packageDirs: string[],
): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", specifier],
    cwd: REPO_ROOT,
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`deno info ${specifier} failed`);
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { npmPackage?: string }[];
    npmPackages: Record<string, NpmPackageInfo>;
  };
  const root = info.modules.find((m) => m.npmPackage)?.npmPackage;
  if (!root) throw new Error(`deno info ${specifier}: no npm package`);
  const seen = new Set<string>();
  const link = async (id: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    const pkg = info.npmPackages[id];
    if (!pkg) throw new Error(`deno info ${specifier}: ${id} missing`);
    packageDirs.push(pkg.localPath);
    const path = `${linkDir}/node_modules/${pkg.name}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.symlink(pkg.localPath, path).catch((error) => {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    });
    for (const dependency of pkg.dependencies) await link(dependency);
  };
  await link(root);
}
