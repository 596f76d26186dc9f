/**
 * The layering rule of CONTRIBUTING.md, read from the source: `src/` imports neither `drivers/`
 * nor `cli/` nor any driver package, and `drivers/` never imports `cli/`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Driver packages, by bare name or npm: specifier. */
const DRIVER_PACKAGES =
  /^(npm:)?(pg|postgres|@neondatabase\/serverless|@electric-sql\/pglite|deno-postgres)(@|\/|$)/;

/** Every .ts file under a folder of the repository, as paths relative to the root. */
function tsFiles(folder: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(join(ROOT, dir))) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) walk(path);
      else if (entry.isFile && entry.name.endsWith(".ts")) found.push(path);
    }
  };
  walk(folder);
  return found;
}

/**
 * The specifiers a file imports or re-exports, static or dynamic, outside comments (so JSDoc
 * examples, which import the published names, do not count).
 */
export function importsOf(source: string): string[] {
  const code = source
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
  const specifiers: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^;"'`]*?\bfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of code.matchAll(pattern)) specifiers.push(match[1]!);
  }
  return specifiers;
}

/** The repository folder a relative specifier lands in, or undefined for a package. */
function targetFolder(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith(".")) return undefined;
  const target = relative(ROOT, resolve(ROOT, dirname(file), specifier));
  return target.split("/")[0];
}

function violations(folder: string, forbidden: string[], noDriverPackages: boolean): string[] {
  const found: string[] = [];
  for (const file of tsFiles(folder)) {
    for (const specifier of importsOf(Deno.readTextFileSync(join(ROOT, file)))) {
      const target = targetFolder(file, specifier);
      if (target !== undefined && forbidden.includes(target)) {
        found.push(`${file} imports ${specifier}`);
      }
      if (noDriverPackages && DRIVER_PACKAGES.test(specifier)) {
        found.push(`${file} imports the driver package ${specifier}`);
      }
    }
  }
  return found;
}

Deno.test("the import reader sees static, type-only, re-exported and dynamic imports, not comments", () => {
  const source = [
    'import { a } from "../drivers/a.ts";',
    'import type {\n  B,\n} from "../cli/b.ts";',
    'export { c } from "./c.ts";',
    'export * from "./d.ts";',
    'import "./e.ts";',
    'const f = await import("pg");',
    '/** @example\n * import { g } from "../cli/g.ts";\n */',
    '// import { h } from "../cli/h.ts";',
    'const url = "https://example.com"; // a URL is not a comment start',
  ].join("\n");
  assert.deepEqual(importsOf(source).sort(), [
    "../cli/b.ts",
    "../drivers/a.ts",
    "./c.ts",
    "./d.ts",
    "./e.ts",
    "pg",
  ]);
});

Deno.test("every folder of the rule has files and imports to check", () => {
  for (const folder of ["src", "drivers", "cli"]) {
    const files = tsFiles(folder);
    assert.ok(files.length > 0, `${folder}/ has no .ts files`);
    const imports = files.flatMap((f) => importsOf(Deno.readTextFileSync(join(ROOT, f))));
    assert.ok(imports.length > 0, `${folder}/ has no imports`);
  }
  // The reader finds the imports the rule is about where they are allowed.
  const fromDrivers = tsFiles("drivers").flatMap((f) =>
    importsOf(Deno.readTextFileSync(join(ROOT, f))).map((s) => targetFolder(f, s))
  );
  assert.ok(fromDrivers.includes("src"), "no import of src/ found in drivers/");
  const fromCli = tsFiles("cli").flatMap((f) =>
    importsOf(Deno.readTextFileSync(join(ROOT, f))).map((s) => targetFolder(f, s))
  );
  assert.ok(fromCli.includes("drivers"), "no import of drivers/ found in cli/");
});

Deno.test("src/ imports neither drivers/ nor cli/ nor a driver package", () => {
  assert.deepEqual(violations("src", ["drivers", "cli"], true), []);
});

Deno.test("drivers/ never imports cli/", () => {
  assert.deepEqual(violations("drivers", ["cli"], false), []);
});
