/**
 * Policy state persisted in Deno KV and shared by every edge instance that opens the same KV.
 *
 * Layout: one `Deno.KvU64` counter per number in the state, `[...prefix, "t"]` and `[...prefix, field, armIndex]`,
 * holding the running total in fixed point (`round(value * 1e6)`, two's complement so negative reward sums work:
 * `sum` wraps modulo 2^64 and reads go through `BigInt.asIntN(64, ...)`).
 *
 * Merge: an instance never writes totals. It keeps `base` (the totals it last read) plus the deltas it learned since,
 * and a flush adds those deltas with atomic `sum` mutations in a single `kv.atomic()` commit. Sums commute and need no
 * version check, so concurrent flushes from any number of instances never conflict and no update is ever lost or
 * double counted; every instance converges on the same totals after its next read (every `syncMs`). With periodic
 * reads on (`syncMs` > 0) a flush adds its own batch to `base` locally instead of re-reading every counter (that
 * re-read cost a third to a half of a flush's CPU: docs/benchmarks.md); with `syncMs` = 0 each flush re-reads.
 *
 * Durability: a flush starts when `flushEvery` updates are pending or `flushMs` after the first pending one, and on
 * {@linkcode PolicyStore.close}. A batch is one atomic commit, so a crash never leaves a half-written state. The loss
 * bound is enforced, not hoped for: {@linkcode PolicyStore.applyBounded} (what the edge's request path uses) applies
 * the step at once but resolves only when at most `maxUncommitted` updates, its own included, are not yet committed,
 * so a caller that answers after it resolves has at most `maxUncommitted` answered updates at risk whatever the
 * commit latency (a slow disk slows answers down instead: backpressure). A SIGKILL therefore loses at most
 * `maxUncommitted` answered updates (default `2 * flushEvery - 1`: 15 with the default `flushEvery` of 8). The wait
 * ends early when a commit fails or takes longer than `maxWaitMs` (the KV is failing: the answer is not held hostage
 * to it; `stats().unbounded` counts those answers). SIGTERM (close) loses none.
 * @module
 */

import { diffState, emptyState, mergeDelta } from "../shared/policy/state.ts";
import type { PolicyState } from "../shared/policy/types.ts";

/** Fixed-point scale of the stored counters (1e-6 resolution per flushed delta). */
export const FIXED_POINT_SCALE = 1_000_000;

/** Options of {@linkcode PolicyStore.open}. */
export interface PolicyStoreOptions {
  /** An open KV; the store never closes it. */
  readonly kv: Deno.Kv;
  /** Key prefix of this policy's counters, e.g. `["splitee", "policy", modelId, version, policyKey]`. */
  readonly prefix: Deno.KvKey;
  /** Number of arms and whether the adaptive-cost sums exist (as in shared/policy's config). */
  readonly shape: { readonly layers: number; readonly adaptiveCosts: boolean };
  /**
   * Flush after this many updates.
   * @default {8}
   */
  readonly flushEvery?: number;
  /**
   * Flush this long after the first unflushed update.
   * @default {500}
   */
  readonly flushMs?: number;
  /**
   * Re-read the shared totals this often; 0 = no timer, re-read after each flush instead.
   * @default {1000}
   */
  readonly syncMs?: number;
  /**
   * Most updates that may be applied but not committed when {@linkcode PolicyStore.applyBounded} resolves (the SIGKILL
   * loss bound); at least `flushEvery`.
   * @default {2 * flushEvery - 1}
   */
  readonly maxUncommitted?: number;
  /**
   * Longest {@linkcode PolicyStore.applyBounded} waits for a commit before it resolves anyway (the KV is failing).
   * @default {10000}
   */
  readonly maxWaitMs?: number;
  /**
   * Called when a flush or a read fails (the batch is kept and retried).
   * @default {console.error}
   */
  readonly onError?: (error: unknown) => void;
}

/** Counters of a store, for `/v1/policy` and tests. */
export interface PolicyStoreStats {
  /** Updates applied locally since the store opened. */
  readonly updates: number;
  /** Updates not yet committed to KV. */
  readonly pending: number;
  /** Successful flushes. */
  readonly flushes: number;
  /** Failed flushes or reads. */
  readonly errors: number;
  /** Calls of {@linkcode PolicyStore.applyBounded} waiting for a commit now (backpressure). */
  readonly waiting: number;
  /** Calls of {@linkcode PolicyStore.applyBounded} that resolved past the bound (a commit failed or took too long). */
  readonly unbounded: number;
}

/** A caller of {@linkcode PolicyStore.applyBounded} waiting until update `seq` is within the bound. */
interface Waiter {
  readonly seq: number;
  readonly release: () => void;
}

/** A policy state kept in Deno KV; see the module docs for the merge and durability rules. */
export class PolicyStore {
  #base: PolicyState;
  #inflight: PolicyState;
  #pending: PolicyState;
  #pendingCount = 0;
  #inflightCount = 0;
  #updates = 0;
  #flushes = 0;
  #generation = 0;
  #errors = 0;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  #syncTimer: ReturnType<typeof setInterval> | undefined;
  #flushing: Promise<void> | undefined;
  #closed = false;
  /** Sequence number of the last applied update; committed updates are always the prefix `1..#committedSeq`. */
  #seq = 0;
  #committedSeq = 0;
  #waiters: Waiter[] = [];
  #unbounded = 0;
  readonly #opts: Required<PolicyStoreOptions>;
  readonly #empty: PolicyState;

  private constructor(opts: Required<PolicyStoreOptions>, base: PolicyState) {
    this.#opts = opts;
    this.#empty = emptyState(opts.shape);
    this.#base = base;
    this.#inflight = this.#empty;
    this.#pending = this.#empty;
  }

  /** Opens the store and reads the shared totals (an empty state when the KV holds none). */
  static async open(options: PolicyStoreOptions): Promise<PolicyStore> {
    const flushEvery = options.flushEvery ?? 8;
    const opts: Required<PolicyStoreOptions> = {
      flushEvery,
      flushMs: 500,
      syncMs: 1000,
      maxUncommitted: 2 * flushEvery - 1,
      maxWaitMs: 10_000,
      onError: (e) => console.error("policy store:", e instanceof Error ? e.message : e),
      ...options,
    };
    if (!(opts.maxUncommitted >= opts.flushEvery)) {
      throw new RangeError(`maxUncommitted (${opts.maxUncommitted}) must be at least flushEvery (${opts.flushEvery})`);
    }
    const store = new PolicyStore(opts, await readTotals(opts.kv, opts.prefix, opts.shape));
    if (opts.syncMs > 0) {
      store.#syncTimer = setInterval(() => void store.sync().catch(() => {}), opts.syncMs);
    }
    return store;
  }

  /** The current state: shared totals last read + batch being written + updates not yet written. */
  state(): PolicyState {
    return mergeDelta(mergeDelta(this.#base, this.#inflight), this.#pending);
  }

  /**
   * Applies one learning step. `step` receives the current state and returns the next one (e.g. `(s) => update(s,
   * config, observation)`); it runs synchronously, so concurrent requests never overwrite each other's steps.
   */
  apply(step: (state: PolicyState) => PolicyState): PolicyState {
    if (this.#closed) throw new Error("PolicyStore is closed");
    const before = this.state();
    const after = step(before);
    this.#pending = mergeDelta(this.#pending, diffState(before, after));
    this.#pendingCount++;
    this.#updates++;
    this.#seq++;
    if (this.#pendingCount >= this.#opts.flushEvery) void this.flush().catch(() => {});
    else this.#armFlushTimer();
    return after;
  }

  /**
   * {@linkcode apply}, then waits until at most `maxUncommitted` updates up to this one are uncommitted (at once when
   * that already holds). Answer a request only after this resolves, and a SIGKILL loses at most `maxUncommitted`
   * answered updates whatever the KV's commit latency. Resolves early (counted in `stats().unbounded`) when a commit
   * fails or the wait passes `maxWaitMs`.
   */
  async applyBounded(step: (state: PolicyState) => PolicyState): Promise<PolicyState> {
    const after = this.apply(step);
    const seq = this.#seq;
    if (seq - this.#committedSeq <= this.#opts.maxUncommitted) return after;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        this.#unbounded++;
        resolve();
      }, this.#opts.maxWaitMs);
      const waiter = {
        seq,
        release: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.#waiters.push(waiter);
    });
    return after;
  }

  /** Releases the waiters now within the bound, or all of them (`failed`: a commit failed, the bound cannot hold). */
  #releaseWaiters(failed: boolean): void {
    if (this.#waiters.length === 0) return;
    const limit = this.#committedSeq + this.#opts.maxUncommitted;
    const keep: Waiter[] = [];
    for (const w of this.#waiters) {
      if (w.seq <= limit) w.release();
      else if (failed) {
        this.#unbounded++;
        w.release();
      } else keep.push(w);
    }
    this.#waiters = keep;
  }

  /** Writes the pending updates (one atomic commit), then re-reads the shared totals when `syncMs` is 0. Serialised. */
  flush(): Promise<void> {
    const run = async (): Promise<void> => {
      await this.#flushing;
      if (this.#pendingCount === 0) return;
      this.#clearFlushTimer();
      this.#inflight = this.#pending;
      this.#inflightCount = this.#pendingCount;
      this.#pending = this.#empty;
      this.#pendingCount = 0;
      let committed = false;
      try {
        const op = this.#opts.kv.atomic();
        for (const [key, value] of entries(this.#inflight)) {
          const fixed = BigInt(Math.round(value * FIXED_POINT_SCALE));
          if (fixed !== 0n) op.sum([...this.#opts.prefix, ...key], BigInt.asUintN(64, fixed));
        }
        const result = await op.commit();
        if (!result.ok) throw new Error("KV commit of policy deltas was rejected");
        committed = true;
        this.#committedSeq += this.#inflightCount;
        this.#inflightCount = 0; // committed: no longer pending, even while the totals are re-read
        this.#releaseWaiters(false);
        this.#flushes++;
        this.#generation++;
        this.#base = this.#opts.syncMs > 0
          ? mergeDelta(this.#base, this.#inflight) // others' updates arrive with the next periodic sync
          : await readTotals(this.#opts.kv, this.#opts.prefix, this.#opts.shape);
        this.#inflight = this.#empty;
        this.#inflightCount = 0;
      } catch (error) {
        if (committed) {
          // Written but not re-read: count the batch locally; the next sync replaces the estimate.
          this.#base = mergeDelta(this.#base, this.#inflight);
        } else {
          // Nothing was written (a commit is atomic): keep the batch for the next flush.
          this.#pending = mergeDelta(this.#inflight, this.#pending);
          this.#pendingCount += this.#inflightCount;
          this.#armFlushTimer();
        }
        this.#inflight = this.#empty;
        this.#inflightCount = 0;
        this.#errors++;
        if (!committed) this.#releaseWaiters(true);
        this.#opts.onError(error);
        throw error;
      }
    };
    const p = run();
    this.#flushing = p.catch(() => {});
    return p;
  }

  /** Re-reads the shared totals (what other instances flushed). */
  async sync(): Promise<void> {
    try {
      await this.#flushing;
      const generation = this.#generation;
      const totals = await readTotals(this.#opts.kv, this.#opts.prefix, this.#opts.shape);
      // A flush that started or finished while reading makes these totals stale for this instance: skip them.
      if (this.#inflightCount === 0 && this.#generation === generation) this.#base = totals;
    } catch (error) {
      this.#errors++;
      this.#opts.onError(error);
      throw error;
    }
  }

  /** Counters for diagnostics. */
  stats(): PolicyStoreStats {
    return {
      updates: this.#updates,
      pending: this.#pendingCount + this.#inflightCount,
      flushes: this.#flushes,
      errors: this.#errors,
      waiting: this.#waiters.length,
      unbounded: this.#unbounded,
    };
  }

  /** Stops the timers and writes everything pending. Safe to call twice. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#clearFlushTimer();
    if (this.#syncTimer !== undefined) clearInterval(this.#syncTimer);
    this.#syncTimer = undefined;
    await this.flush();
  }

  #armFlushTimer(): void {
    if (this.#closed || this.#flushTimer !== undefined) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      void this.flush().catch(() => {});
    }, this.#opts.flushMs);
  }

  #clearFlushTimer(): void {
    if (this.#flushTimer !== undefined) clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
  }
}

/** Every number of a state with its key suffix: `["t"]` or `[field, armIndex]`. */
function* entries(state: PolicyState): Generator<[Deno.KvKey, number]> {
  yield [["t"], state.t];
  for (const [field, value] of Object.entries(state)) {
    if (!Array.isArray(value)) continue;
    for (let i = 0; i < value.length; i++) yield [[field, i], value[i] as number];
  }
}

/** Reads the totals under `prefix` into a state of the given shape (missing counters are 0). */
export async function readTotals(
  kv: Deno.Kv,
  prefix: Deno.KvKey,
  shape: { readonly layers: number; readonly adaptiveCosts: boolean },
): Promise<PolicyState> {
  const out = structuredClone(emptyState(shape)) as unknown as Record<string, number | number[]>;
  for await (const entry of kv.list<Deno.KvU64>({ prefix }, { consistency: "strong", batchSize: 500 })) {
    if (!(entry.value instanceof Deno.KvU64)) continue;
    const value = Number(BigInt.asIntN(64, entry.value.value)) / FIXED_POINT_SCALE;
    const rest = entry.key.slice(prefix.length);
    if (rest.length === 1 && rest[0] === "t") out.t = value;
    else if (rest.length === 2 && typeof rest[0] === "string" && typeof rest[1] === "number") {
      const arr = out[rest[0]];
      if (Array.isArray(arr) && rest[1] >= 0 && rest[1] < arr.length) arr[rest[1]] = value;
    }
  }
  return out as unknown as PolicyState;
}
