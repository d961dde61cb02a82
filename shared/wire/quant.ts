/**
 * Lossy hidden-state encodings for bandwidth: IEEE 754 binary16 (round to nearest, ties to even) and int8 with one
 * absmax scale per token (`q = round(x / s)`, `s = max|x_t| / 127`, `x ≈ q * s`). Pure functions over typed arrays.
 * @module
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The binary16 bit pattern nearest to `value` (ties to even; overflow to ±Infinity; NaN stays NaN). */
export function float32ToFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const full = mant | 0x800000;
    const shift = 14 - e;
    let half = full >>> shift;
    const rem = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (and rounds the largest values up to Infinity).
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1) === 1)) half++;
  return sign | half;
}

/** The value of a binary16 bit pattern. */
export function float16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant !== 0 ? NaN : sign * Infinity;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

/** Whether a binary16 bit pattern is NaN or ±Infinity. */
export function isFloat16NonFinite(bits: number): boolean {
  return (bits & 0x7c00) === 0x7c00;
}

/** Rounds every value to binary16. */
export function toFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = float32ToFloat16Bits(values[i]!);
  return out;
}

/** Widens binary16 bit patterns to float32 (exact). */
export function fromFloat16(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = float16BitsToFloat32(bits[i]!);
  return out;
}

/** An int8 tensor with one float32 scale per row (token). */
export interface Int8PerToken {
  /** `[T * D]` quantised values in [-127, 127]. */
  readonly data: Int8Array;
  /** `[T]` scales; a row of zeros has scale 0. */
  readonly scales: Float32Array;
}

/**
 * Quantises a row-major `[tokens, width]` matrix to int8 with a per-row absmax scale.
 * @throws {RangeError} when the sizes disagree or a value is not finite.
 */
export function quantizeInt8PerToken(values: Float32Array, tokens: number, width: number): Int8PerToken {
  if (values.length !== tokens * width) {
    throw new RangeError(
      `quantizeInt8PerToken: ${tokens}x${width} needs ${tokens * width} values, got ${values.length}`,
    );
  }
  const data = new Int8Array(values.length);
  const scales = new Float32Array(tokens);
  for (let t = 0; t < tokens; t++) {
    const base = t * width;
    let absmax = 0;
    for (let j = 0; j < width; j++) {
      const v = values[base + j]!;
      if (!Number.isFinite(v)) throw new RangeError(`quantizeInt8PerToken: value ${base + j} is ${v}`);
      const a = Math.abs(v);
      if (a > absmax) absmax = a;
    }
    const scale = Math.fround(absmax / 127);
    scales[t] = scale;
    if (scale === 0) continue;
    for (let j = 0; j < width; j++) {
      const q = Math.round(values[base + j]! / scale);
      data[base + j] = q > 127 ? 127 : q < -127 ? -127 : q;
    }
  }
  return { data, scales };
}

/**
 * Dequantises per-row int8 back to float32 (`x = q * scale`).
 * @throws {RangeError} when the sizes disagree.
 */
export function dequantizeInt8PerToken(data: Int8Array, scales: Float32Array, width: number): Float32Array {
  if (data.length !== scales.length * width) {
    throw new RangeError(
      `dequantizeInt8PerToken: ${scales.length} scales x ${width} needs ${
        scales.length * width
      } values, got ${data.length}`,
    );
  }
  const out = new Float32Array(data.length);
  for (let t = 0; t < scales.length; t++) {
    const scale = scales[t]!;
    const base = t * width;
    for (let j = 0; j < width; j++) out[base + j] = data[base + j]! * scale;
  }
  return out;
}
