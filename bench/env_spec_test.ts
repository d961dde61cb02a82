import assert from "node:assert/strict";
import { parseEnvSpec } from "./env_spec.ts";

Deno.test("parseEnvSpec() reads K=V lists, keeps '=' inside values and names the flag in its error", () => {
  assert.deepEqual(parseEnvSpec("A=1,B=x=y", "--env"), { A: "1", B: "x=y" });
  assert.deepEqual(parseEnvSpec("", "--env"), {});
  assert.deepEqual(parseEnvSpec("EMPTY=", "--env"), { EMPTY: "" });
  assert.throws(() => parseEnvSpec("A=1,oops", "--baseline-env"), /--baseline-env takes K=V/);
  assert.throws(() => parseEnvSpec("=1", "--env"), /--env takes K=V/);
});
