import assert from "node:assert/strict";
import { parseList, parseSweep } from "./sweep.ts";

Deno.test("parseSweep() includes both ends without float drift", () => {
  assert.deepEqual(parseSweep("0.1:0.6:0.05"), [0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6]);
  assert.deepEqual(parseSweep("0.5:0.5:0.1"), [0.5]);
  assert.deepEqual(parseSweep("0:1:0.4"), [0, 0.4, 0.8]);
});

Deno.test("parseSweep() and parseList() reject malformed specs", () => {
  assert.throws(() => parseSweep("0.1:0.6"), /start:stop:step with numbers \(got "0\.1:0\.6"\)/);
  assert.throws(() => parseSweep("0.6:0.1:0.05"), /0 <= start <= stop and step > 0/);
  assert.throws(() => parseSweep("0:1:0"), /step > 0/);
  assert.throws(() => parseSweep("0:1:a"), /with numbers/);
  assert.throws(() => parseSweep("0:100:0.01"), /10001 values/);
  assert.deepEqual(parseList("0.1, 0.6", "--o-schedule"), [0.1, 0.6]);
  assert.throws(() => parseList("0.1,,0.6", "--o-schedule"), /--o-schedule must be comma-separated numbers >= 0/);
  assert.throws(() => parseList("-1", "x"), /x must be/);
});
