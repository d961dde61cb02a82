import { expect } from "expect";
import { CircuitBreaker } from "./circuit_breaker.ts";

function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

Deno.test("CircuitBreaker opens after the threshold of consecutive failures and fails fast while open", () => {
  const c = clock();
  const b = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 100, now: c.now });
  for (let i = 0; i < 2; i++) {
    expect(b.acquire()).toBe(true);
    b.failure();
  }
  expect(b.state).toBe("closed");
  expect(b.acquire()).toBe(true);
  b.success(); // a success resets the count
  for (let i = 0; i < 3; i++) {
    expect(b.acquire()).toBe(true);
    b.failure();
  }
  expect(b.state).toBe("open");
  expect(b.acquire()).toBe(false);
  expect(b.snapshot()).toMatchObject({ state: "open", opened: 1, rejected: 1 });
});

Deno.test("CircuitBreaker lets exactly one half-open probe through after the cooldown", () => {
  const c = clock();
  const b = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 100, now: c.now });
  b.acquire();
  b.failure();
  c.advance(99);
  expect(b.acquire()).toBe(false);
  c.advance(1);
  expect(b.state).toBe("half-open");
  expect(b.acquire()).toBe(true);
  expect(b.acquire()).toBe(false); // probe in flight
  b.failure(); // probe failed: open again for a full cooldown
  expect(b.state).toBe("open");
  c.advance(100);
  expect(b.acquire()).toBe(true);
  b.success();
  expect(b.state).toBe("closed");
  expect(b.acquire()).toBe(true);
  expect(b.snapshot().opened).toBe(2);
});
