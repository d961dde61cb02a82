/**
 * Greedy longest-match-first WordPiece, as `wordpiece` in `models/pipeline/tokenizer.py`.
 * @module
 */

/** Words longer than this many code points become the unknown token without being matched. */
export const MAX_WORD_CHARS = 100;

/** The reference's unknown token. */
export const UNK_TOKEN = "[UNK]";

const SURROGATE = /[\ud800-\udfff]/;

/**
 * Split one word (as produced by `basicTokenize`) into vocabulary pieces, continuation pieces prefixed with `##`.
 * Lengths and slices count code points, as Python does. A word longer than {@linkcode MAX_WORD_CHARS} or one that
 * cannot be matched completely is a single `unk`.
 *
 * @example
 * ```ts
 * wordpiece("unbelievable", new Set(["un", "##believ", "##able"])); // ["un", "##believ", "##able"]
 * ```
 */
export function wordpiece(word: string, vocab: { has(token: string): boolean }, unk: string = UNK_TOKEN): string[] {
  const chars = SURROGATE.test(word) ? Array.from(word) : undefined;
  const length = chars ? chars.length : word.length;
  if (length > MAX_WORD_CHARS) return [unk];
  const pieces: string[] = [];
  let start = 0;
  while (start < length) {
    let end = length;
    let found: string | undefined;
    while (start < end) {
      const sub = chars ? chars.slice(start, end).join("") : word.slice(start, end);
      const piece = start > 0 ? `##${sub}` : sub;
      if (vocab.has(piece)) {
        found = piece;
        break;
      }
      end--;
    }
    if (found === undefined) return [unk];
    pieces.push(found);
    start = end;
  }
  return pieces;
}
