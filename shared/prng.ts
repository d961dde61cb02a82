/**
 * A small seeded pseudo-random number generator (xoshiro128**, seeded through splitmix32) whose whole state is four
 * unsigned 32-bit integers, so it can be serialised, restored and replayed exactly. Policies and the offline replay
 * receive a {@linkcode Prng}; nothing in `shared/` calls `Math.random()`.
 * @module
 */

/** Serialisable generator state: four uint32 words (not all zero). */
export interface PrngState {
  readonly s: readonly [number, number, number, number];
}

/** A seeded generator. Every call advances the state. */
export interface Prng {
  /** Uniform float in [0, 1) with 32 bits of resolution. */
  next(): number;
  /** Uniform integer in [0, n) for an integer n in [1, 2^32]; the bias is below n / 2^32. */
  nextInt(n: number): number;
  /** A copy of the current state; {@linkcode restorePrng} continues the sequence from it. */
  state(): PrngState;
}

const TWO_POW_32 = 4294967296;

/** One splitmix32 step: returns the next counter and an output word (both uint32). */
function splitmix32(counter: number): [number, number] {
  const next = (counter + 0x9e3779b9) >>> 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z = (z ^ (z >>> 16)) >>> 0;
  return [next, z];
}

/**
 * Hashes one or more integers into a uint32 seed, e.g. `mixSeed(seed, run)` for the generator of one replay run.
 * @throws {RangeError} when a part is not a safe integer.
 */
export function mixSeed(...parts: number[]): number {
  let h = 0x243f6a88;
  for (const part of parts) {
    if (!Number.isSafeInteger(part)) throw new RangeError(`Seed parts must be safe integers, got ${part}`);
    const lo = part >>> 0;
    const hi = Math.floor(part / TWO_POW_32) >>> 0;
    h = splitmix32((h ^ lo) >>> 0)[1];
    h = splitmix32((h ^ hi) >>> 0)[1];
  }
  return h;
}

/**
 * Creates a generator from an integer seed (any safe integer; equal seeds give equal sequences).
 * @throws {RangeError} when the seed is not a safe integer.
 */
export function createPrng(seed: number): Prng {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`PRNG seed must be a safe integer, got ${seed}`);
  let counter = mixSeed(seed);
  const words: number[] = [];
  for (let i = 0; i < 4; i++) {
    const [next, out] = splitmix32(counter);
    counter = next;
    words.push(out);
  }
  if ((words[0]! | words[1]! | words[2]! | words[3]!) === 0) words[0] = 1;
  return restorePrng({ s: [words[0]!, words[1]!, words[2]!, words[3]!] });
}

/**
 * Continues a generator from a state returned by {@linkcode Prng.state}.
 * @throws {RangeError} when the state is not four uint32 words or is all zero.
 */
export function restorePrng(state: PrngState): Prng {
  const raw: unknown = state?.s;
  if (
    !Array.isArray(raw) || raw.length !== 4 ||
    !raw.every((w) => Number.isInteger(w) && w >= 0 && w < TWO_POW_32)
  ) {
    throw new RangeError("PRNG state must be four uint32 words");
  }
  if (raw.every((w) => w === 0)) throw new RangeError("PRNG state must not be all zero");
  let [s0, s1, s2, s3] = state.s;
  const nextU32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  };
  return {
    next: () => nextU32() / TWO_POW_32,
    nextInt(n: number): number {
      if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
        throw new RangeError(`nextInt needs an integer in [1, 2^32], got ${n}`);
      }
      return Math.floor((nextU32() / TWO_POW_32) * n);
    },
    state: () => ({ s: [s0 >>> 0, s1 >>> 0, s2 >>> 0, s3 >>> 0] }),
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A uniformly shuffled permutation of `0..n-1` (Fisher-Yates). */
export function shuffledIndices(n: number, prng: Prng): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = prng.nextInt(i + 1);
    const tmp = order[i]!;
    order[i] = order[j]!;
    order[j] = tmp;
  }
  return order;
}

/** A standard normal draw (Box-Muller; consumes two uniforms). */
export function nextGaussian(prng: Prng): number {
  const u = 1 - prng.next(); // (0, 1]
  const v = prng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
