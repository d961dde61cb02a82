import { expect } from "expect";
import { activeTraceId, withSpan } from "./tracing.ts";

Deno.test("withSpan() returns the result, rethrows errors, and activeTraceId() is null with tracing off", async () => {
  expect(await withSpan("test.ok", { "splitee.split_layer": 3 }, () => Promise.resolve(42))).toBe(42);
  await expect(withSpan("test.fail", {}, () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
  // OTEL_DENO is not set in unit tests: spans are no-ops without a trace id.
  expect(await withSpan("test.id", {}, () => Promise.resolve(activeTraceId()))).toBeNull();
});
