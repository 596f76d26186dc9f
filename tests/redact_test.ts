import assert from "node:assert/strict";
import { redact } from "../cli/failure.ts";

Deno.test("redact() hides the password where a URL or a password setting shows it, nothing else", async (t) => {
  await t.step("a one-letter password leaves the words around it alone", () => {
    const url = "postgres://app:e@db:5432/test";
    assert.equal(
      redact("cannot connect to the database: password authentication failed", url),
      "cannot connect to the database: password authentication failed",
    );
  });

  await t.step("a password equal to the role name leaves the role name alone", () => {
    const url = "postgres://postgres:postgres@db/test";
    assert.equal(
      redact(`role "postgres" does not exist`, url),
      `role "postgres" does not exist`,
    );
  });

  await t.step("the password inside a URL is hidden, plain or percent-encoded", () => {
    assert.equal(
      redact("cannot parse postgres://app:s3cret@db/test here", "postgres://app:s3cret@db/test"),
      "cannot parse postgres://app:****@db/test here",
    );
    assert.equal(
      redact("bad postgresql://app:p%40ss@db/x", "postgresql://app:p%40ss@db/x"),
      "bad postgresql://app:****@db/x",
    );
    assert.equal(
      redact("in postgres://other:hunter2@x/y", undefined),
      "in postgres://other:****@x/y",
      "any URL's password, not only the one in use",
    );
    assert.equal(
      redact("at postgres://a:p@ss@db:5432/x", "postgres://a:p@ss@db:5432/x"),
      "at postgres://a:****@db:5432/x",
      "an unencoded @ in the password",
    );
  });

  await t.step("password settings are hidden: password=…, password: …", () => {
    const url = "postgres://app:p%40ss@db/test";
    assert.equal(
      redact(`bad conninfo "host=db password=p@ss user=app"`, url),
      `bad conninfo "host=db password=**** user=app"`,
    );
    assert.equal(
      redact(`bad conninfo host=db password='p@ss' password=other`, url),
      `bad conninfo host=db password='****' password=other`,
    );
    assert.equal(
      redact(`{"password":"s3cret","user":"app"}`, "postgres://app:s3cret@db/x"),
      `{"password":"****","user":"app"}`,
    );
  });

  await t.step("messages become one line", () => {
    assert.equal(redact("a\n  b\n", undefined), "a b");
  });
});
