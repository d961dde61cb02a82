/**
 * decide + update cost at L = 12, observation construction included. One iteration = 1,000 samples, so the
 * per-sample cost is time/iter / 1000 (batching amortises timer resolution and scheduling noise).
 * Run: `deno bench -A shared/policy/policy_bench.ts`
 */
import { createPrng, nextGaussian } from "../prng.ts";
import { observeRow } from "./observe.ts";
import { createPolicy } from "./registry.ts";

const L = 12;
const prng = createPrng(1);
const BATCH = 1000;
const rows: Float64Array[] = Array.from({ length: 4096 }, () => {
  const row = new Float64Array(L);
  let z = nextGaussian(prng);
  for (let k = 0; k < L; k++) {
    z += 0.3 + 0.4 * nextGaussian(prng);
    row[k] = 1 / (1 + Math.exp(-Math.abs(z)));
  }
  return row;
});

for (const name of ["splitee", "splitee-s", "splitee-s-paper", "splitee-s-early", "splitee-s-adaptive"]) {
  const policy = createPolicy(name, { layers: L, alpha: 0.7, lambda: 0.1, o: 0.5 }, { prng });
  let state = policy.warmUp(policy.initialState(), rows.slice(0, policy.warmUpSamples));
  let i = 0;
  Deno.bench({
    name: `${name}: decide + update x ${BATCH} samples`,
    group: "policy",
    baseline: name === "splitee-s",
    fn() {
      for (let b = 0; b < BATCH; b++) {
        const row = rows[i++ & 4095]!;
        const decision = policy.decide(state, prng);
        state = policy.update(state, observeRow(decision, row, policy.config).observation);
      }
    },
  });
}
