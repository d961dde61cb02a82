/**
 * WordPiece tokenizer with token-for-token parity with `models/pipeline/tokenizer.py` (fixtures in
 * `tests/fixtures/tokenizer/`). Runtime-free: build it from the text of `vocab.txt`.
 *
 * @example
 * ```ts
 * import { WordPieceTokenizer } from "./mod.ts";
 * const tokenizer = new WordPieceTokenizer(vocabText, { maxLength: manifest.maxLength, headTokens: 64 });
 * tokenizer.encode("premise", "hypothesis"); // { inputIds, tokenTypeIds }
 * ```
 * @module
 */

export { basicTokenize, isCjk, isPunctuation } from "./basic.ts";
export { Category, categoryOf } from "./categories.ts";
export { UNICODE_VERSION } from "./unicode_data.ts";
export { parseVocab } from "./vocab.ts";
export { MAX_WORD_CHARS, UNK_TOKEN, wordpiece } from "./wordpiece.ts";
export { type EncodeOptions, type Encoding, SPECIAL_TOKENS, WordPieceTokenizer } from "./tokenizer.ts";
export type { WordPieceTokenizerOptions } from "./tokenizer.ts";
export { manifestTokenizer, UnsupportedTokenizerError } from "./from_manifest.ts";
export type { BasicTokenizeOptions } from "./basic.ts";
