import assert from "node:assert/strict";
import { splitStatements } from "./split_statements.ts";

Deno.test("splitStatements splits at semicolons outside quotes, dollar quotes and comments", () => {
  assert.deepEqual(
    splitStatements(`
      CREATE INDEX a ON t (x);
      -- a comment; with a semicolon
      INSERT INTO t VALUES ('a;b', "c;d", E'e\\';f');
      /* block; comment */ DO $body$ BEGIN PERFORM 1; END $body$;
      SELECT $$x;y$$;
    `),
    [
      "CREATE INDEX a ON t (x)",
      `-- a comment; with a semicolon
      INSERT INTO t VALUES ('a;b', "c;d", E'e\\';f')`,
      "/* block; comment */ DO $body$ BEGIN PERFORM 1; END $body$",
      "SELECT $$x;y$$",
    ],
  );
});

Deno.test("splitStatements keeps doubled quotes, drops empty statements", () => {
  assert.deepEqual(splitStatements("SELECT 'it''s; fine';;  ;SELECT 2"), [
    "SELECT 'it''s; fine'",
    "SELECT 2",
  ]);
  assert.deepEqual(splitStatements(""), []);
  assert.deepEqual(splitStatements("SELECT a$1;SELECT 2"), ["SELECT a$1", "SELECT 2"]);
});
