/**
 * General-category lookup pinned to the Unicode version of the Python reference tokenizer.
 *
 * JavaScript engines ship newer Unicode data than the Python that trained the model; characters assigned or
 * re-categorised since then would tokenize differently. The table in `unicode_data.ts` is generated from the
 * reference's own `unicodedata`, so category tests here agree with it for every code point.
 * @module
 */

import { CATEGORY_RANGES } from "./unicode_data.ts";

/** The categories basic tokenization distinguishes. */
export const Category = {
  /** In none of the categories below. */
  Other: 0,
  /** Cc or Cf: removed (tab, line feed and carriage return are handled as whitespace before this). */
  Control: 1,
  /** Zs: becomes a space. */
  SpaceSeparator: 2,
  /** Any P*: split off as its own token. */
  Punctuation: 3,
  /** Mn: removed after NFD. */
  NonspacingMark: 4,
  /** Cn, unassigned in the reference's Unicode version: no case mapping, no decomposition. */
  Unassigned: 5,
} as const;

/** One of the {@linkcode Category} values. */
export type Category = typeof Category[keyof typeof Category];

const KIND: Readonly<Record<string, Category>> = {
  C: Category.Control,
  Z: Category.SpaceSeparator,
  P: Category.Punctuation,
  M: Category.NonspacingMark,
  N: Category.Unassigned,
};

interface Table {
  /** Category of every BMP code point. */
  bmp: Uint8Array;
  /** Ranges above the BMP: starts, inclusive ends and categories, sorted by start. */
  starts: Uint32Array;
  ends: Uint32Array;
  kinds: Uint8Array;
}

let table: Table | undefined;

function buildTable(): Table {
  const bmp = new Uint8Array(0x10000);
  const starts: number[] = [], ends: number[] = [], kinds: number[] = [];
  for (const entry of CATEGORY_RANGES.join("").split(" ")) {
    if (!entry) continue;
    const kind = KIND[entry[0] as string];
    const [from, to] = entry.slice(1).split("-");
    const start = parseInt(from as string, 16);
    const end = to === undefined ? start : parseInt(to, 16);
    if (kind === undefined || !(start <= end)) throw new Error(`Bad Unicode category range "${entry}"`);
    if (start < 0x10000) bmp.fill(kind, start, Math.min(end, 0xffff) + 1);
    if (end >= 0x10000) {
      starts.push(Math.max(start, 0x10000));
      ends.push(end);
      kinds.push(kind);
    }
  }
  return { bmp, starts: Uint32Array.from(starts), ends: Uint32Array.from(ends), kinds: Uint8Array.from(kinds) };
}

/** The {@linkcode Category} of a code point, as the reference's `unicodedata.category` sees it. */
export function categoryOf(cp: number): Category {
  const t = table ??= buildTable();
  if (cp < 0x10000) return t.bmp[cp] as Category;
  let lo = 0, hi = t.starts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (cp < (t.starts[mid] as number)) hi = mid - 1;
    else if (cp > (t.ends[mid] as number)) lo = mid + 1;
    else return t.kinds[mid] as Category;
  }
  return Category.Other;
}
