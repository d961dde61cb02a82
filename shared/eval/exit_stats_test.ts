import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { exitStats, formatExitStats } from "./exit_stats.ts";
import { parseExitsJsonl } from "./matrix.ts";

const jsonl = [
  '{"label": 1, "probs": [[0.4, 0.6], [0.1, 0.9]]}',
  '{"label": 0, "probs": [[0.3, 0.7], [0.8, 0.2]]}',
  '{"label": null, "probs": [[0.5, 0.5], [0.5, 0.5]]}',
].join("\n");

Deno.test("exitStats() computes accuracy, mean confidence and ECE per exit over labelled samples", () => {
  const [e1, e2] = exitStats(parseExitsJsonl(jsonl), { alpha: 0.75 });
  assertEquals(e1!.accuracy, 0.5);
  assertEquals(Number(e1!.meanConfidence.toFixed(6)), 0.65);
  // exit 1: bin 6 holds (0.6, right), bin 7 holds (0.7, wrong): |1-0.6|/2 + |0-0.7|/2 = 0.55
  assertEquals(Number(e1!.ece.toFixed(6)), 0.55);
  assertEquals(e1!.confidentRate, 0);
  assertEquals(e2!.accuracy, 1);
  assertEquals(Number(e2!.ece.toFixed(6)), 0.15);
  assertEquals(e2!.confidentRate, 1);
});

Deno.test("formatExitStats() writes one Markdown row per exit", () => {
  const table = formatExitStats(exitStats(parseExitsJsonl(jsonl)));
  assertEquals(table.split("\n").length, 4);
  assertEquals(table.split("\n")[2], "| 1 | 50.0 | 65.0 | 55.0 | - |");
});
