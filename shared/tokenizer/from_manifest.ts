/**
 * The tokenizer a model's manifest describes: its vocabulary, case and HTML line-break settings, length and
 * truncation. One place for the edge, the CLIs and the benches, so an imported BERT model (cased or uncased, no HTML
 * line breaks, longest-first) and the project's own models are tokenized exactly as they were exported.
 * @module
 */

import type { Manifest } from "../manifest.ts";
import { SPECIAL_TOKENS, WordPieceTokenizer } from "./tokenizer.ts";

/** A manifest's tokenizer settings that this tokenizer cannot honour; the message names the setting. */
export class UnsupportedTokenizerError extends Error {
  override readonly name = "UnsupportedTokenizerError";
}

/**
 * Builds the model's tokenizer from its manifest and the text of its vocabulary file.
 * A `longest-first` model truncates a single text by keeping its head (head+tail with every piece in the head).
 * @throws {UnsupportedTokenizerError} for settings the tokenizer cannot honour (accents stripped without
 *   lower-casing or the reverse, special tokens other than `[PAD] [UNK] [CLS] [SEP]`)
 */
export function manifestTokenizer(
  manifest: Pick<Manifest, "id" | "maxLength" | "tokenizer">,
  vocabText: string,
  options: { cacheSize?: number } = {},
): WordPieceTokenizer {
  const t = manifest.tokenizer;
  if (t.lowercase !== t.stripAccents) {
    throw new UnsupportedTokenizerError(
      `model ${manifest.id}: tokenizer.lowercase ${t.lowercase} with tokenizer.stripAccents ${t.stripAccents} is ` +
        "not supported (both true: uncased, or both false: cased)",
    );
  }
  const sp = t.specialTokens;
  if (
    sp.pad !== SPECIAL_TOKENS.pad || sp.unk !== SPECIAL_TOKENS.unk || sp.cls !== SPECIAL_TOKENS.cls ||
    sp.sep !== SPECIAL_TOKENS.sep
  ) {
    throw new UnsupportedTokenizerError(`model ${manifest.id}: unsupported special tokens ${JSON.stringify(sp)}`);
  }
  return new WordPieceTokenizer(vocabText, {
    maxLength: manifest.maxLength,
    headTokens: t.truncation === "head+tail" ? t.headTokens : manifest.maxLength - 2,
    lowercase: t.lowercase,
    htmlLineBreaks: t.htmlLineBreaks,
    ...(options.cacheSize === undefined ? {} : { cacheSize: options.cacheSize }),
  });
}
