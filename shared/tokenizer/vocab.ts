/**
 * Reading a WordPiece `vocab.txt` the way the Python reference does.
 * @module
 */

/**
 * Token to id map of a `vocab.txt` text (one token per line, id = line number), read as Python's
 * `[line.rstrip("\n") for line in open(path, encoding="utf-8")]` reads it: `\r\n` and `\r` end lines too, a final
 * newline adds no empty token, and a token listed twice gets the id of its last line. A byte-order mark is kept as
 * part of the first token, as Python's "utf-8" codec keeps it, so decode with `ignoreBOM: true` for exact parity.
 */
export function parseVocab(text: string): { tokens: string[]; ids: Map<string, number> } {
  const tokens = text.replace(/\r\n?/g, "\n").split("\n");
  if (tokens.at(-1) === "") tokens.pop();
  const ids = new Map<string, number>();
  tokens.forEach((token, id) => ids.set(token, id));
  return { tokens, ids };
}
