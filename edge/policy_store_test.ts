import { expect } from "expect";
import { createPrng } from "../shared/prng.ts";
import type { PolicyState } from "../shared/policy/types.ts";
import { PolicyStore, readTotals } from "./policy_store.ts";

const SHAPE = { layers: 4, adaptiveCosts: true };
const PREFIX = ["splitee", "policy", "test"];

/** A learning step: arm `arm` observed with `reward` (and the adaptive sums). */
function step(arm: number, reward: number) {
  return (s: PolicyState): PolicyState => {
    const bump = (xs: readonly number[] | undefined, v: number) => xs!.map((x, i) => (i === arm - 1 ? x + v : x));
    return {
      t: s.t + 1,
      counts: bump(s.counts, 1),
      rewardSums: bump(s.rewardSums, reward),
      confidenceSums: bump(s.confidenceSums, reward + 1),
      layerSums: bump(s.layerSums, arm),
      offloads: bump(s.offloads, arm % 2),
    };
  };
}

async function withTempKv(fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "splitee-kv-" });
  try {
    await fn(`${dir}/policy.kv`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("PolicyStore keeps exact totals when two instances on one KV file interleave updates", async () => {
  await withTempKv(async (path) => {
    const kvA = await Deno.openKv(path);
    const kvB = await Deno.openKv(path);
    const a = await PolicyStore.open({ kv: kvA, prefix: PREFIX, shape: SHAPE, flushEvery: 3, flushMs: 5, syncMs: 7 });
    const b = await PolicyStore.open({ kv: kvB, prefix: PREFIX, shape: SHAPE, flushEvery: 5, flushMs: 3, syncMs: 0 });
    const prng = createPrng(7);
    const expected = { t: 0, counts: [0, 0, 0, 0], rewardSums: [0, 0, 0, 0] };
    for (let i = 0; i < 400; i++) {
      const arm = 1 + prng.nextInt(4);
      // Rewards on the 1e-6 grid (negative too), so the fixed-point totals must match exactly.
      const reward = (prng.nextInt(2_000_001) - 1_000_000) / 1_000_000;
      (prng.next() < 0.5 ? a : b).apply(step(arm, reward));
      expected.t++;
      expected.counts[arm - 1]!++;
      expected.rewardSums[arm - 1]! += reward;
      if (i % 37 === 0) await new Promise((r) => setTimeout(r, 4));
    }
    await a.close();
    await b.close();
    const totals = await readTotals(kvA, PREFIX, SHAPE);
    expect(totals.t).toBe(400);
    expect(totals.counts).toEqual(expected.counts);
    totals.rewardSums.forEach((v, i) => expect(v).toBeCloseTo(expected.rewardSums[i]!, 6));
    expect(totals.layerSums).toEqual(expected.counts.map((n, i) => n * (i + 1)));
    // Both instances converge on the shared totals after a sync.
    const a2 = await PolicyStore.open({ kv: kvB, prefix: PREFIX, shape: SHAPE, syncMs: 0 });
    expect(a2.state().counts).toEqual(expected.counts);
    await a2.close();
    kvA.close();
    kvB.close();
  });
});

Deno.test("PolicyStore state survives a restart and a second instance sees the first one's flushes", async () => {
  await withTempKv(async (path) => {
    let kv = await Deno.openKv(path);
    const first = await PolicyStore.open({ kv, prefix: PREFIX, shape: SHAPE, flushEvery: 100, syncMs: 0 });
    first.apply(step(2, 0.25));
    first.apply(step(2, 0.5));
    const other = await PolicyStore.open({ kv, prefix: PREFIX, shape: SHAPE, syncMs: 0 });
    expect(other.state().t).toBe(0); // not flushed yet
    await first.flush();
    await other.sync();
    expect(other.state().counts).toEqual([0, 2, 0, 0]);
    expect(other.state().rewardSums[1]).toBeCloseTo(0.75, 9);
    await first.close();
    await other.close();
    kv.close();
    kv = await Deno.openKv(path);
    const restarted = await PolicyStore.open({ kv, prefix: PREFIX, shape: SHAPE, syncMs: 0 });
    expect(restarted.state().t).toBe(2);
    expect(restarted.state().offloads).toEqual([0, 0, 0, 0]);
    await restarted.close();
    kv.close();
  });
});

Deno.test("PolicyStore flushes after flushEvery updates and after flushMs, and loses only unflushed updates", async () => {
  await withTempKv(async (path) => {
    const kv = await Deno.openKv(path);
    const store = await PolicyStore.open({ kv, prefix: PREFIX, shape: SHAPE, flushEvery: 4, flushMs: 30, syncMs: 0 });
    for (let i = 0; i < 4; i++) store.apply(step(1, 0.1));
    await store.flush(); // waits for the flush the 4th update started
    expect((await readTotals(kv, PREFIX, SHAPE)).t).toBe(4);
    store.apply(step(3, 0.1));
    expect((await readTotals(kv, PREFIX, SHAPE)).t).toBe(4);
    expect(store.stats().pending).toBe(1);
    await new Promise((r) => setTimeout(r, 80));
    expect((await readTotals(kv, PREFIX, SHAPE)).t).toBe(5);
    expect(store.stats()).toMatchObject({ updates: 5, pending: 0, errors: 0 });
    await store.close();
    kv.close();
  });
});

Deno.test("PolicyStore keeps a batch whose commit failed and writes it with the next flush", async () => {
  const kv = await Deno.openKv(":memory:");
  const errors: unknown[] = [];
  const store = await PolicyStore.open({
    kv,
    prefix: PREFIX,
    shape: SHAPE,
    flushEvery: 100,
    syncMs: 0,
    onError: (e) => errors.push(e),
  });
  store.apply(step(4, -0.5));
  const realAtomic = kv.atomic.bind(kv);
  kv.atomic = () => {
    const op = realAtomic();
    op.commit = () => Promise.reject(new Error("KV unavailable"));
    return op;
  };
  await expect(store.flush()).rejects.toThrow("KV unavailable");
  expect(store.state().rewardSums[3]).toBeCloseTo(-0.5, 9);
  expect(store.stats().pending).toBe(1);
  kv.atomic = realAtomic;
  await store.close();
  const totals = await readTotals(kv, PREFIX, SHAPE);
  expect(totals.counts).toEqual([0, 0, 0, 1]);
  expect(totals.rewardSums[3]).toBeCloseTo(-0.5, 9);
  expect(errors).toHaveLength(1);
  kv.close();
});

Deno.test("PolicyStore with periodic syncs counts its own flush locally and sees other instances after sync()", async () => {
  await withTempKv(async (path) => {
    const kv = await Deno.openKv(path);
    const open = (syncMs: number) =>
      PolicyStore.open({ kv, prefix: PREFIX, shape: SHAPE, flushEvery: 100, flushMs: 60_000, syncMs });
    const a = await open(3_600_000); // periodic reads on (the timer never fires in this test)
    const b = await open(0); // re-reads after each of its flushes
    try {
      a.apply(step(1, 0.5));
      a.apply(step(2, -0.25));
      await a.flush();
      expect(a.state().t).toBe(2);
      expect(a.state().counts).toEqual([1, 1, 0, 0]);
      b.apply(step(3, 1));
      await b.flush();
      expect(b.state().counts).toEqual([1, 1, 1, 0]); // b re-read: a's flush included
      expect(a.state().counts).toEqual([1, 1, 0, 0]); // a has not read since its own flush
      await a.sync();
      expect(a.state().counts).toEqual([1, 1, 1, 0]);
      expect(a.state().rewardSums).toEqual([0.5, -0.25, 1, 0]);
    } finally {
      await a.close();
      await b.close();
      kv.close();
    }
  });
});

/** Holds every KV commit of `kv` until `release()` (injected commit latency), counting commits started. */
function holdCommits(kv: Deno.Kv) {
  const realAtomic = kv.atomic.bind(kv);
  const held: (() => void)[] = [];
  let started = 0;
  let fail = false;
  kv.atomic = () => {
    const op = realAtomic();
    const commit = op.commit.bind(op);
    op.commit = async () => {
      started++;
      await new Promise<void>((resolve) => held.push(resolve));
      if (fail) throw new Error("KV unavailable");
      return await commit();
    };
    return op;
  };
  return {
    get started() {
      return started;
    },
    /** Lets the commits started so far finish (`asFailure`: they throw instead). */
    release(asFailure = false) {
      fail = asFailure;
      for (const r of held.splice(0)) r();
    },
    restore() {
      kv.atomic = realAtomic;
    },
  };
}

/** Waits until `done()` holds (polling; KV calls that are not held take a few ms), failing after 10 s. */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

Deno.test("PolicyStore.applyBounded never leaves more than maxUncommitted answered updates while commits are slow", async () => {
  const kv = await Deno.openKv(":memory:");
  const hold = holdCommits(kv);
  const store = await PolicyStore.open({ kv, prefix: PREFIX, shape: SHAPE, flushEvery: 4, flushMs: 60_000, syncMs: 0 });
  try {
    expect(store.stats()).toMatchObject({ waiting: 0, unbounded: 0 });
    let answered = 0;
    const bounded = () => store.applyBounded(step(1, 0.5)).then(() => answered++);
    // Concurrent "requests"; every commit is held until released, as on a disk under heavy write load.
    const calls = Array.from({ length: 10 }, bounded);
    // The first batch (all 10) is being committed, one commit at a time; maxUncommitted = 2 * 4 - 1: 7 are answered,
    // the rest wait for the commit (backpressure). Only a commit can release them, and every commit is held.
    await until(() => hold.started === 1 && answered === 7, "the first commit and 7 answers");
    calls.push(...Array.from({ length: 20 }, bounded));
    expect(store.stats()).toMatchObject({ updates: 30, pending: 30, waiting: 23 });
    await new Promise((r) => setTimeout(r, 20));
    expect(answered).toBe(7);
    hold.release();
    // 10 committed: updates up to 17 may be answered; the next commit (the 20 others) is held.
    await until(() => hold.started === 2 && answered === 17, "the second commit and 17 answers");
    expect((await readTotals(kv, PREFIX, SHAPE)).t).toBe(10);
    await new Promise((r) => setTimeout(r, 20));
    expect(answered).toBe(17);
    hold.release();
    await Promise.all(calls);
    expect(answered).toBe(30);
    expect((await readTotals(kv, PREFIX, SHAPE)).t).toBe(30);
    expect(store.stats()).toMatchObject({ pending: 0, waiting: 0, unbounded: 0, errors: 0 });
  } finally {
    hold.restore();
    await store.close();
    kv.close();
  }
});

Deno.test("PolicyStore.applyBounded resolves at once within the bound and lets waiters go when a commit fails", async () => {
  const kv = await Deno.openKv(":memory:");
  const hold = holdCommits(kv);
  const errors: unknown[] = [];
  const store = await PolicyStore.open({
    kv,
    prefix: PREFIX,
    shape: SHAPE,
    flushEvery: 2,
    maxUncommitted: 3,
    flushMs: 60_000,
    syncMs: 0,
    onError: (e) => errors.push(e),
  });
  try {
    let answered = 0;
    const calls = Array.from({ length: 5 }, () => store.applyBounded(step(2, 1)).then(() => answered++));
    await until(() => hold.started === 1 && answered === 3, "the first commit and 3 answers");
    expect(store.stats().waiting).toBe(2);
    hold.release(true); // the KV fails: the answers are not held hostage to it
    await Promise.all(calls);
    expect(store.stats()).toMatchObject({ waiting: 0, unbounded: 2, pending: 5, errors: 1 });
    expect(errors).toHaveLength(1);
    // The retry (a flush queued by the 3rd-5th update) commits next, held too.
    await until(() => hold.started === 2, "the retry's commit");
    hold.release();
    await store.flush();
    expect((await readTotals(kv, PREFIX, SHAPE)).t).toBe(5); // nothing lost once the KV is back
  } finally {
    hold.restore();
    await store.close();
    kv.close();
  }
});

Deno.test("PolicyStore.applyBounded gives up waiting after maxWaitMs when a commit hangs", async () => {
  const kv = await Deno.openKv(":memory:");
  const hold = holdCommits(kv);
  const store = await PolicyStore.open({
    kv,
    prefix: PREFIX,
    shape: SHAPE,
    flushEvery: 1,
    maxUncommitted: 1,
    maxWaitMs: 30,
    flushMs: 60_000,
    syncMs: 0,
    onError: () => {},
  });
  try {
    await store.applyBounded(step(1, 0)); // within the bound: at once
    await store.applyBounded(step(1, 0)); // 2 uncommitted > 1: waits 30 ms, then goes on
    expect(store.stats()).toMatchObject({ unbounded: 1, waiting: 0 });
    await expect(PolicyStore.open({ kv, prefix: PREFIX, shape: SHAPE, flushEvery: 4, maxUncommitted: 3 })).rejects
      .toThrow("maxUncommitted");
  } finally {
    hold.release();
    hold.restore();
    await store.close();
    kv.close();
  }
});
