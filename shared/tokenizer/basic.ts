/**
 * Basic tokenization: the normalisation and word/punctuation split of `basic_tokenize` in
 * `models/pipeline/tokenizer.py`, reproduced code point for code point.
 * @module
 */

import { Category, categoryOf } from "./categories.ts";

/**
 * `<br\s*\/?>`, case-insensitive, with Python's `\s` (which, unlike JavaScript's, includes U+001C..U+001F and
 * U+0085 and excludes U+FEFF).
 */
// deno-lint-ignore no-control-regex
const HTML_LINE_BREAK = /<[bB][rR][\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*\/?>/g;

const NON_ASCII = /[^\0-\x7f]/;
const ASCII_SPACE = /[\t\n\r]/g;
// deno-lint-ignore no-control-regex
const ASCII_CONTROL = /[\0-\x08\x0b\x0c\x0e-\x1f\x7f]/g;

/** Whether a code point is a CJK ideograph (the ranges BERT surrounds with spaces). */
export function isCjk(cp: number): boolean {
  return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) || (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f);
}

/** Whether a code point is split off as punctuation: ASCII non-alphanumeric symbols, or any Unicode P*. */
export function isPunctuation(cp: number): boolean {
  if (cp < 0x80) {
    return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
  }
  return categoryOf(cp) === Category.Punctuation;
}

/** Lower-case, NFD and drop non-spacing marks; `ascii` strings only need lower-casing. */
function fold(text: string, ascii: boolean): string {
  if (ascii) return text.toLowerCase();
  let out = "";
  for (const ch of text.toLowerCase().normalize("NFD")) {
    if (categoryOf(ch.codePointAt(0) as number) !== Category.NonspacingMark) out += ch;
  }
  return out;
}

/** Normalisation switches of {@linkcode basicTokenize} (the manifest's `tokenizer` settings). */
export interface BasicTokenizeOptions {
  /**
   * Lower-case, NFD and drop non-spacing marks (an uncased BERT vocabulary); `false` keeps case and accents (a cased
   * one). @default true
   */
  readonly lowercase?: boolean;
  /** Turn `<br />` HTML line breaks into spaces (the project's own models; BERT does not). @default true */
  readonly htmlLineBreaks?: boolean;
}

/**
 * Steps 1-4: HTML line breaks and whitespace to spaces, controls and U+FFFD dropped, CJK spaced, then lower-case,
 * NFD and marks removed. Code points unassigned in the reference's Unicode version pass through unchanged and are
 * folded around rather than with their neighbours: Python gives them no case, no decomposition and combining class
 * 0, so they end every context (final sigma, canonical reordering) exactly like the end of a string.
 */
function normalize(text: string, lowercase: boolean, htmlLineBreaks: boolean): string {
  if (htmlLineBreaks) text = text.replace(HTML_LINE_BREAK, " ");
  if (!NON_ASCII.test(text)) {
    const cleaned = text.replace(ASCII_SPACE, " ").replace(ASCII_CONTROL, "");
    return lowercase ? cleaned.toLowerCase() : cleaned;
  }
  const fold_ = lowercase ? fold : (s: string) => s;
  let out = "";
  let pending = "";
  let ascii = true;
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    if (cp < 0x80) {
      if (cp === 0x20 || cp === 0x09 || cp === 0x0a || cp === 0x0d) pending += " ";
      else if (cp > 0x20 && cp !== 0x7f) pending += ch;
      continue; // other ASCII (NUL included) is Cc: dropped
    }
    const category = categoryOf(cp);
    if (category === Category.Control || cp === 0xfffd) continue;
    if (category === Category.SpaceSeparator) {
      pending += " ";
      continue;
    }
    const piece = isCjk(cp) ? ` ${ch} ` : ch;
    if (category === Category.Unassigned) {
      out += fold_(pending, ascii) + piece;
      pending = "";
      ascii = true;
    } else {
      pending += piece;
      ascii = false;
    }
  }
  return out + fold_(pending, ascii);
}

const SIMPLE_WORD = /^[a-z0-9]+$/;

/**
 * Normalise a text and split it into words and punctuation, exactly as the reference `basic_tokenize` (with
 * `options`, as its `lowercase` and `html_line_breaks` arguments):
 * `<br />` line breaks become spaces, control characters and U+FFFD are removed, CJK ideographs become their own
 * words, text is lower-cased with accents (non-spacing marks after NFD) stripped, and every punctuation character
 * is split off as its own token.
 *
 * @example
 * ```ts
 * basicTokenize("Café<br />ISN'T bad!"); // ["cafe", "isn", "'", "t", "bad", "!"]
 * ```
 */
export function basicTokenize(text: string, options: BasicTokenizeOptions = {}): string[] {
  const tokens: string[] = [];
  for (const word of normalize(text, options.lowercase ?? true, options.htmlLineBreaks ?? true).split(" ")) {
    if (!word) continue;
    if (SIMPLE_WORD.test(word)) {
      tokens.push(word);
      continue;
    }
    let current = "";
    for (const ch of word) {
      if (isPunctuation(ch.codePointAt(0) as number)) {
        if (current) tokens.push(current);
        current = "";
        tokens.push(ch);
      } else {
        current += ch;
      }
    }
    if (current) tokens.push(current);
  }
  return tokens;
}
