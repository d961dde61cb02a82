/**
 * One request's policy work for the policy-overhead benchmarks (bench/policy_overhead.ts, its `deno bench`
 * companion): decide, then the observation the classifier would build for the chosen arm, from 1,024 seeded rows of
 * plausible exit confidences (rising with depth).
 * @module
 */
import type { Observation, Policy, PolicyState } from "../shared/policy/mod.ts";
import type { Prng } from "../shared/prng.ts";

/** Returns `step(policy, state)`; draws the confidence rows from `prng` now and the decisions' tie breaks later. */
export function createPolicySteps(prng: Prng, layers: number): (policy: Policy, state: PolicyState) => Observation {
  const rows: number[][] = Array.from({ length: 1024 }, () => {
    let c = 0.55 + 0.4 * prng.next();
    return Array.from({ length: layers }, () => (c = Math.min(0.999, c + 0.03 * prng.next())));
  });
  let row = 0;
  return (policy, state) => {
    const d = policy.decide(state, prng);
    const confidences = rows[row++ & 1023]!.slice(0, d.arm);
    return {
      arm: d.arm,
      confidences,
      lambda: 0.1,
      o: 0.5,
      ...(d.arm === layers ? { finalConfidence: confidences[layers - 1]! } : {}),
    };
  };
}
