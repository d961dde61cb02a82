import { expect } from "expect";
import { CostMeter, type CostMeterOptions } from "./cost_meter.ts";

function meter(overrides: Partial<CostMeterOptions> = {}) {
  let t = 0;
  const m = new CostMeter({
    mode: "measured",
    lambda: 0.1,
    o: 0.5,
    msPerUnit: 10,
    weight: 0.5,
    halfLifeMs: 1000,
    failurePenalty: 1,
    now: () => t,
    ...overrides,
  });
  return { m, advance: (ms: number) => (t += ms) };
}

Deno.test("CostMeter in constant mode returns the configured costs and charges failures o + penalty", () => {
  const { m } = meter({ mode: "constant" });
  m.recordEdge(50);
  m.recordOffload(500, 3);
  expect(m.costs()).toEqual({ lambda: 0.1, o: 0.5 });
  expect(m.observationCosts(false)).toEqual({ lambda: 0.1, o: 0.5 });
  expect(m.observationCosts(true)).toEqual({ lambda: 0.1, o: 1.5 });
});

Deno.test("CostMeter in measured mode starts at the priors and follows an EWMA of the measurements", () => {
  const { m } = meter();
  expect(m.costs()).toEqual({ lambda: 0.1, o: 0.5 });
  m.recordEdge(2); // first sample initialises the average
  m.recordOffload(20, 4);
  expect(m.costs().lambda).toBeCloseTo(0.2, 9);
  expect(m.costs().o).toBeCloseTo(2, 9);
  m.recordOffload(40, 4);
  expect(m.costs().o).toBeCloseTo(3, 9); // 20 + 0.5 * (40 - 20) = 30 ms
  expect(m.snapshot().measured).toMatchObject({ commMs: 30, gatewayMs: 4, commSamples: 2, edgeSamples: 1 });
});

Deno.test("CostMeter charges a failed offload its elapsed time plus the penalty", () => {
  const { m } = meter();
  m.recordOffload(2, 1);
  m.recordFailure(0); // refused by the breaker: 0 ms + 1 unit (10 ms)
  expect(m.costs().o).toBeCloseTo(0.6, 9); // 2 + 0.5 * (10 - 2) = 6 ms
  m.recordFailure(90);
  expect(m.costs().o).toBeCloseTo(5.3, 9); // 6 + 0.5 * (100 - 6) = 53 ms
  expect(m.snapshot().measured.failures).toBe(2);
});

Deno.test("CostMeter decays a stale estimate toward its prior with the configured half-life", () => {
  const { m, advance } = meter();
  m.recordOffload(105, 0); // o = 10.5
  advance(1000);
  expect(m.costs().o).toBeCloseTo(0.5 + 10 / 2, 9);
  advance(1000);
  expect(m.costs().o).toBeCloseTo(0.5 + 10 / 4, 9);
  m.recordOffload(5, 0); // a new sample starts from the decayed value: 30 + 0.5 * (5 - 30)
  expect(m.costs().o).toBeCloseTo(1.75, 9);
});
