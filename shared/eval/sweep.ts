/**
 * Parsing of o sweeps (`0.1:0.6:0.05`) and schedules (`0.1,0.6`).
 * @module
 */

/**
 * Parses `start:stop:step` into the inclusive list of values, rounded to 10 decimals so 0.1 + k * 0.05 prints
 * cleanly.
 * @throws {RangeError} naming the problem.
 */
export function parseSweep(spec: string): number[] {
  const parts = spec.split(":");
  const nums = parts.map((p) => (p.trim() === "" ? NaN : Number(p)));
  if (parts.length !== 3 || nums.some((v) => !Number.isFinite(v))) {
    throw new RangeError(`o sweep must be start:stop:step with numbers (got "${spec}")`);
  }
  const [start, stop, step] = nums as [number, number, number];
  if (step <= 0 || stop < start || start < 0) {
    throw new RangeError(`o sweep needs 0 <= start <= stop and step > 0 (got "${spec}")`);
  }
  const count = Math.floor((stop - start) / step + 1e-9) + 1;
  if (count > 1000) throw new RangeError(`o sweep "${spec}" has ${count} values (at most 1000)`);
  return Array.from({ length: count }, (_, k) => Number((start + k * step).toFixed(10)));
}

/**
 * Parses a comma-separated list of non-negative numbers.
 * @throws {RangeError} naming the problem.
 */
export function parseList(spec: string, what: string): number[] {
  const values = spec.split(",").map((p) => (p.trim() === "" ? NaN : Number(p)));
  if (values.length === 0 || values.some((v) => !Number.isFinite(v) || v < 0)) {
    throw new RangeError(`${what} must be comma-separated numbers >= 0 (got "${spec}")`);
  }
  return values;
}
