import assert from "node:assert/strict";
import { formatOf, InputError, parseLabelMap, readRecords, readRows, type RowSpec } from "./exits_input.ts";

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

Deno.test("formatOf() picks CSV for .csv and .csv.gz and TSV for everything else", () => {
  assert.equal(formatOf("a/test.csv"), "csv");
  assert.equal(formatOf("test.CSV.gz"), "csv");
  assert.equal(formatOf("test.tsv"), "tsv");
  assert.equal(formatOf("msr_paraphrase_test.txt"), "tsv");
  assert.equal(formatOf("csv/test.tsv.gz"), "tsv");
});

Deno.test("parseLabelMap() maps names to indices and rejects bad entries", () => {
  assert.deepEqual(
    parseLabelMap("entailment=0, not_entailment = 1,a=b=1", 2),
    new Map([["entailment", 0], ["not_entailment", 1], ["a=b", 1]]),
  );
  const error = (spec: string, message: RegExp) =>
    assert.throws(() => parseLabelMap(spec, 2), (e) => e instanceof InputError && message.test(e.message));
  error("entailment", /entry "entailment" is not name=index/);
  error("=1", /entry "=1" is not name=index/);
  error("x=2", /index must be an integer in 0\.\.1/);
  error("x=one", /index must be an integer in 0\.\.1/);
  error("x=0,x=1", /names "x" twice/);
});

Deno.test("readRows() reads TSV and gzipped CSV alike, with mapped labels, a BOM and an unmapped-label error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const tsv = `${dir}/rows.tsv`;
    await Deno.writeTextFile(tsv, '\uFEFFs1\ts2\ty\n"a\tb, c\tyes\n\nd\te\t\n');
    const csv = `${dir}/rows.csv.gz`;
    const csvText = '\uFEFFs1,s2,y\r\n"""a","b, c",yes\r\nd,e,\r\n';
    await Deno.writeFile(
      csv,
      ReadableStream.from([new TextEncoder().encode(csvText)]).pipeThrough(new CompressionStream("gzip")),
    );
    const spec = (input: string): RowSpec => ({
      input,
      text: "s1",
      textPair: "s2",
      label: "y",
      labelMap: new Map([["no", 0], ["yes", 1]]),
      classes: 2,
    });
    const expected = [{ text: '"a', pair: "b, c", label: 1 }, { text: "d", pair: "e", label: null }];
    assert.deepEqual(await collect(readRows(spec(tsv))), expected);
    assert.deepEqual(await collect(readRows(spec(csv))), expected);
    assert.deepEqual((await collect(readRecords(tsv))).map((r) => r.line), [1, 2, 4]);

    const bad = `${dir}/bad.csv`;
    await Deno.writeTextFile(bad, 's1,s2,y\n"multi\nline",x,no\nz,w,maybe\n');
    await assert.rejects(
      collect(readRows(spec(bad))),
      (e) =>
        e instanceof InputError && /bad\.csv line 4: label "maybe" is not in --label-map \(no, yes\)/.test(e.message),
    );
    await Deno.writeTextFile(bad, 's1,s2,y\nz,"w\n');
    await assert.rejects(
      collect(readRows(spec(bad))),
      (e) => e instanceof InputError && /bad\.csv line 2: a quoted field is never closed/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
