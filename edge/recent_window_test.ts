import { expect } from "expect";
import { RecentWindow } from "./recent_window.ts";

Deno.test("RecentWindow summarises only the latest entries", () => {
  const w = new RecentWindow(4);
  expect(w.summary()).toEqual({
    size: 0,
    offloadRate: null,
    degradedRate: null,
    meanSplitLayer: null,
    modalSplitLayer: null,
  });
  w.push({ splitLayer: 12, offloaded: false, degraded: false });
  for (let i = 0; i < 4; i++) w.push({ splitLayer: 2, offloaded: i % 2 === 0, degraded: i === 0 });
  expect(w.summary()).toEqual({ size: 4, offloadRate: 0.5, degradedRate: 0.25, meanSplitLayer: 2, modalSplitLayer: 2 });
});
