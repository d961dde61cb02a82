import { expect } from "expect";
import { timingSafeEqual } from "./api_key.ts";

Deno.test("timingSafeEqual() is true only for identical bytes", () => {
  const e = (s: string) => new TextEncoder().encode(s);
  expect(timingSafeEqual(e("secret-key"), e("secret-key"))).toBe(true);
  expect(timingSafeEqual(e("secret-key"), e("secret-kez"))).toBe(false);
  expect(timingSafeEqual(e("secret"), e("secret-key"))).toBe(false);
  expect(timingSafeEqual(e(""), e("x"))).toBe(false);
  expect(timingSafeEqual(e(""), e(""))).toBe(true);
});
