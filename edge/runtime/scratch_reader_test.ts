import assert from "node:assert/strict";
import { scratchReader } from "./scratch_reader.ts";

Deno.test("scratchReader() returns each file's exact bytes, reusing one buffer", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const big = new Uint8Array(300_000).map((_, i) => (i * 31) % 251);
    const small = new Uint8Array([1, 2, 3]);
    await Deno.writeFile(`${dir}/big.bin`, big);
    await Deno.writeFile(`${dir}/small.bin`, small);
    const read = scratchReader(dir);
    const a = await read("big.bin");
    assert.deepEqual(a, big);
    const b = await read("small.bin");
    assert.deepEqual(b, small);
    assert.equal(a.buffer, b.buffer, "one buffer for both");
    assert.deepEqual(await read("big.bin"), big);
    await assert.rejects(read("missing.bin"), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
