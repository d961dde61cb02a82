import assert from "node:assert/strict";
import { CsvError, CsvParser, parseCsv } from "./csv.ts";

const fields = (text: string) => parseCsv(text).map((r) => r.fields);

Deno.test("parseCsv() reads quoted fields with commas, doubled quotes and newlines, and empty fields", () => {
  const text = 'premise,hypothesis,label\n"a, b","say ""hi""",x\n"two\nlines",,\r\nplain,"",last';
  assert.deepEqual(parseCsv(text), [
    { fields: ["premise", "hypothesis", "label"], line: 1 },
    { fields: ["a, b", 'say "hi"', "x"], line: 2 },
    { fields: ["two\nlines", "", ""], line: 3 },
    { fields: ["plain", "", "last"], line: 5 },
  ]);
});

Deno.test("parseCsv() skips blank lines, accepts CRLF and a final newline, keeps a lone CR literally", () => {
  assert.deepEqual(fields("a,b\r\n\r\n1,2\r\n\n3,4\n"), [["a", "b"], ["1", "2"], ["3", "4"]]);
  assert.deepEqual(fields("a,b\n1\r2,3"), [["a", "b"], ["1\r2", "3"]]);
  assert.deepEqual(fields('"q"\r\n"r"'), [["q"], ["r"]]);
  assert.deepEqual(fields(""), []);
});

Deno.test("CsvParser gives the same records whatever the pieces the text arrives in", () => {
  const text = 'h1,h2\r\n"x, ""y""\r\nz",w\r\n"",""\r\nlast,"one"\r\n';
  const whole = parseCsv(text);
  for (let size = 1; size <= 5; size++) {
    const parser = new CsvParser();
    const got = [];
    for (let i = 0; i < text.length; i += size) got.push(...parser.push(text.slice(i, i + size)));
    got.push(...parser.end());
    assert.deepEqual(got, whole, `pieces of ${size}`);
  }
  assert.deepEqual(whole.map((r) => r.line), [1, 2, 4, 5]);
});

Deno.test("parseCsv() rejects stray and unterminated quotes, naming the line", () => {
  const error = (text: string, line: number, message: RegExp) =>
    assert.throws(() => parseCsv(text), (e) => e instanceof CsvError && e.line === line && message.test(e.message));
  error('a,b\n1,x"y\n', 2, /line 2: a quote inside an unquoted field/);
  error('a,b\n"1"x,2\n', 2, /line 2: text after a closing quote/);
  error('a,b\n"1"\rx,2\n', 2, /text after a closing quote/);
  error('a,b\n1,2\n"open,\nstill\n', 3, /line 3: a quoted field is never closed/);
});
