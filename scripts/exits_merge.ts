/**
 * `--merge-classes` of `deno task exits`: a model's classes merged into coarser output classes by summing their
 * probabilities, e.g. `entailment;neutral+contradiction` (groups separated by `;`, classes inside a group by `+`).
 * @module
 */

import { InputError } from "./exits_input.ts";

/** Output classes as groups of the model's class indices, and their names (`neutral+contradiction`). */
export interface ClassMerge {
  readonly groups: readonly (readonly number[])[];
  readonly names: readonly string[];
}

/** Parses a merge spec against the model's labels: every label must appear in exactly one group. */
export function parseMergeClasses(spec: string, labels: readonly string[]): ClassMerge {
  const known = labels.join(", ");
  const seen = new Set<number>();
  const groups = spec.split(";").map((group, g) => {
    const names = group.split("+").map((n) => n.trim());
    if (names.some((n) => n === "")) {
      throw new InputError(`--merge-classes "${spec}": group ${g + 1} ("${group}") has an empty class name`);
    }
    return names.map((name) => {
      const c = labels.indexOf(name);
      if (c < 0) throw new InputError(`--merge-classes: unknown class "${name}"; the model's classes: ${known}`);
      if (seen.has(c)) throw new InputError(`--merge-classes: class "${name}" appears more than once`);
      seen.add(c);
      return c;
    });
  });
  const missing = labels.filter((_, c) => !seen.has(c));
  if (missing.length > 0) {
    throw new InputError(
      `--merge-classes: ${missing.map((n) => `"${n}"`).join(", ")} in no group; ` +
        `each of the model's classes (${known}) must appear exactly once`,
    );
  }
  return { groups, names: groups.map((g) => g.map((c) => labels[c]!).join("+")) };
}

/** Probabilities of the output classes: each group's sum. */
export function mergeProbs(probs: ArrayLike<number>, merge: ClassMerge): number[] {
  return merge.groups.map((g) => g.reduce((sum, c) => sum + probs[c]!, 0));
}

/** The one-line stderr note: `output class 0 = entailment, 1 = neutral+contradiction`. */
export function describeMerge(merge: ClassMerge): string {
  return `--merge-classes: output class ${merge.names.map((n, i) => `${i} = ${n}`).join(", ")} (probabilities summed)`;
}
