/**
 * The WordPiece tokenizer of `models/pipeline/tokenizer.py`: ids of a text and `[CLS] a [SEP] (b [SEP])` encodings
 * with truncation.
 * @module
 */

import { basicTokenize, type BasicTokenizeOptions } from "./basic.ts";
import { parseVocab } from "./vocab.ts";
import { UNK_TOKEN, wordpiece } from "./wordpiece.ts";

/** Special tokens every vocabulary must contain. */
export const SPECIAL_TOKENS = { pad: "[PAD]", unk: UNK_TOKEN, cls: "[CLS]", sep: "[SEP]", mask: "[MASK]" } as const;

/** Truncation settings of {@linkcode WordPieceTokenizer.encode}. */
export interface EncodeOptions {
  /** Longest encoding, special tokens included (manifest `maxLength`). @default the tokenizer's, 256 */
  maxLength?: number;
  /**
   * Pieces a too-long single text keeps from its start; the other `maxLength - 2 - headTokens` come from its end
   * (manifest `tokenizer.headTokens`). Pairs ignore it. @default the tokenizer's, 64
   */
  headTokens?: number;
}

/** Options of {@linkcode WordPieceTokenizer}. */
export interface WordPieceTokenizerOptions extends EncodeOptions, BasicTokenizeOptions {
  /** Most distinct words whose ids are remembered (oldest forgotten first); 0 turns the cache off. @default 50000 */
  cacheSize?: number;
}

/** Model inputs of one text or pair: `[CLS] a [SEP]` (segment 0) or `[CLS] a [SEP] b [SEP]` (a: 0, b: 1). */
export interface Encoding {
  inputIds: number[];
  tokenTypeIds: number[];
}

function checkLengths(maxLength: number, headTokens: number | undefined, minLength: number): void {
  if (!Number.isInteger(maxLength) || maxLength < minLength) {
    throw new RangeError(`maxLength must be an integer of at least ${minLength}, got ${maxLength}`);
  }
  if (headTokens === undefined) return;
  if (!Number.isInteger(headTokens) || headTokens < 0 || headTokens > maxLength - 2) {
    throw new RangeError(`headTokens must be an integer from 0 to maxLength - 2 (${maxLength - 2}), got ${headTokens}`);
  }
}

/**
 * BERT-style WordPiece tokenizer, token for token the same as the Python reference used in training.
 *
 * @example
 * ```ts
 * const tokenizer = new WordPieceTokenizer(vocabText, { maxLength: 256, headTokens: 64 });
 * const { inputIds, tokenTypeIds } = tokenizer.encode("A charming and often affecting journey.");
 * ```
 */
export class WordPieceTokenizer {
  /** Number of vocabulary lines (ids run from 0 to `vocabSize - 1`). */
  readonly vocabSize: number;
  readonly padId: number;
  readonly unkId: number;
  readonly clsId: number;
  readonly sepId: number;
  /** Default `maxLength` of {@linkcode encode}. */
  readonly maxLength: number;
  /** Default `headTokens` of {@linkcode encode}. */
  readonly headTokens: number;
  readonly #tokens: readonly string[];
  readonly #ids: ReadonlyMap<string, number>;
  readonly #cache = new Map<string, readonly number[]>();
  readonly #cacheSize: number;
  readonly #basic: BasicTokenizeOptions;

  /**
   * @param vocabText the content of `vocab.txt` (one token per line, id = line number)
   * @throws {Error} when the vocabulary lacks a special token
   * @throws {RangeError} when the options are out of range
   */
  constructor(vocabText: string, options: WordPieceTokenizerOptions = {}) {
    const { tokens, ids } = parseVocab(vocabText);
    const idOf = (token: string): number => {
      const id = ids.get(token);
      if (id === undefined) throw new Error(`Vocabulary lacks the special token ${token}`);
      return id;
    };
    Object.values(SPECIAL_TOKENS).forEach(idOf);
    this.#tokens = tokens;
    this.#ids = ids;
    this.vocabSize = tokens.length;
    this.padId = idOf(SPECIAL_TOKENS.pad);
    this.unkId = idOf(SPECIAL_TOKENS.unk);
    this.clsId = idOf(SPECIAL_TOKENS.cls);
    this.sepId = idOf(SPECIAL_TOKENS.sep);
    this.maxLength = options.maxLength ?? 256;
    this.headTokens = options.headTokens ?? 64;
    checkLengths(this.maxLength, this.headTokens, 2);
    this.#basic = { lowercase: options.lowercase ?? true, htmlLineBreaks: options.htmlLineBreaks ?? true };
    this.#cacheSize = options.cacheSize ?? 50_000;
    if (!Number.isInteger(this.#cacheSize) || this.#cacheSize < 0) {
      throw new RangeError(`cacheSize must be a non-negative integer, got ${this.#cacheSize}`);
    }
  }

  /** Token ids of a text: no special tokens, no truncation. */
  tokenizeIds(text: string): number[] {
    const out: number[] = [];
    for (const word of basicTokenize(text, this.#basic)) {
      for (const id of this.#wordIds(word)) out.push(id);
    }
    return out;
  }

  /** The token of an id (for logs and debugging); `undefined` outside the vocabulary. */
  idToToken(id: number): string | undefined {
    return this.#tokens[id];
  }

  /**
   * Model inputs of a text, or of a pair when `textPair` is given.
   *
   * A single text longer than `maxLength` keeps its first `headTokens` pieces and its last
   * `maxLength - 2 - headTokens` (head+tail). A pair is truncated longest-first: one piece at a time from the end
   * of the longer side, the first text on ties.
   *
   * @throws {RangeError} when `maxLength` or `headTokens` is out of range
   */
  encode(text: string, textPair?: string | undefined, options: EncodeOptions = {}): Encoding {
    const maxLength = options.maxLength ?? this.maxLength;
    if (textPair === undefined) {
      const headTokens = options.headTokens ?? this.headTokens;
      checkLengths(maxLength, headTokens, 2);
      let a = this.tokenizeIds(text);
      const budget = maxLength - 2;
      if (a.length > budget) a = a.slice(0, headTokens).concat(a.slice(a.length - (budget - headTokens)));
      const inputIds = [this.clsId, ...a, this.sepId];
      return { inputIds, tokenTypeIds: new Array<number>(inputIds.length).fill(0) };
    }
    checkLengths(maxLength, undefined, 3);
    const a = this.tokenizeIds(text);
    const b = this.tokenizeIds(textPair);
    const budget = maxLength - 3;
    let lengthA = a.length, lengthB = b.length;
    while (lengthA + lengthB > budget) {
      if (lengthA >= lengthB) lengthA--;
      else lengthB--;
    }
    return {
      inputIds: [this.clsId, ...a.slice(0, lengthA), this.sepId, ...b.slice(0, lengthB), this.sepId],
      tokenTypeIds: new Array<number>(lengthA + 2).fill(0).concat(new Array<number>(lengthB + 1).fill(1)),
    };
  }

  #wordIds(word: string): readonly number[] {
    const cached = this.#cache.get(word);
    if (cached !== undefined) return cached;
    const ids = wordpiece(word, this.#ids).map((piece) => this.#ids.get(piece) as number);
    if (this.#cacheSize > 0) {
      if (this.#cache.size >= this.#cacheSize) this.#cache.delete(this.#cache.keys().next().value as string);
      this.#cache.set(word, ids);
    }
    return ids;
  }
}
