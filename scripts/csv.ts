/**
 * Incremental RFC 4180 CSV parsing: text goes in piece by piece (a stream's chunks, split anywhere), complete records
 * come out with the 1-based line each starts on. Fields are separated by `,`, records by `\n` or `\r\n`; a field that
 * starts with `"` is quoted and may hold `,`, newlines and doubled quotes (`""` is one `"`). Blank lines are skipped.
 * Strict where RFC 4180 is: a quote inside an unquoted field, text after a closing quote and an unterminated quoted
 * field are a {@linkcode CsvError} naming the line.
 * @module
 */

/** One record and the line (1-based) it starts on. */
export interface CsvRecord {
  readonly fields: string[];
  readonly line: number;
}

/** Malformed CSV; `line` is the 1-based line where the problem is. */
export class CsvError extends Error {
  override readonly name = "CsvError";
  readonly line: number;
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.line = line;
  }
}

/**
 * Parser states. `quote-in-quoted`: a `"` inside a quoted field, a doubled quote or the closing one. `after-close`:
 * a closing quote then `\r`, so only `\n` may follow.
 */
type State = "field-start" | "unquoted" | "quoted" | "quote-in-quoted" | "after-close";

/** Streaming parser: {@linkcode push} text pieces, then call {@linkcode end} once. */
export class CsvParser {
  #state: State = "field-start";
  #field = "";
  #record: string[] = [];
  #line = 1;
  #recordLine = 1;
  #quoteLine = 1;
  /** A `\r` outside quotes, waiting to see whether `\n` follows. */
  #cr = false;

  /** Parses `text` and returns the records it completed. */
  push(text: string): CsvRecord[] {
    const out: CsvRecord[] = [];
    for (const c of text) {
      if (this.#cr) {
        this.#cr = false;
        if (c === "\n") {
          this.#line++;
          this.#endRecord(out);
          continue;
        }
        if (this.#state === "after-close") throw new CsvError(this.#line, "text after a closing quote");
        this.#field += "\r";
        this.#state = "unquoted";
      }
      if (c === "\n") this.#line++;
      switch (this.#state) {
        case "field-start":
        case "unquoted":
          if (c === ",") this.#endField();
          else if (c === "\n") this.#endRecord(out);
          else if (c === "\r") this.#cr = true;
          else if (c === '"') {
            if (this.#state === "unquoted") {
              throw new CsvError(this.#line, 'a quote inside an unquoted field (quote the field and double the ")');
            }
            this.#state = "quoted";
            this.#quoteLine = this.#line;
          } else {
            this.#field += c;
            this.#state = "unquoted";
          }
          break;
        case "quoted":
          if (c === '"') this.#state = "quote-in-quoted";
          else this.#field += c;
          break;
        case "quote-in-quoted":
          if (c === '"') {
            this.#field += '"';
            this.#state = "quoted";
          } else if (c === ",") this.#endField();
          else if (c === "\n") this.#endRecord(out);
          else if (c === "\r") {
            this.#cr = true;
            this.#state = "after-close";
          } else throw new CsvError(this.#line, "text after a closing quote");
          break;
        case "after-close": // unreachable: #cr is set whenever this state is
          break;
      }
    }
    return out;
  }

  /** Ends the input: returns the last record if the text did not end with a newline. */
  end(): CsvRecord[] {
    const out: CsvRecord[] = [];
    if (this.#state === "quoted") {
      throw new CsvError(this.#quoteLine, "a quoted field is never closed");
    }
    if (this.#cr || this.#state !== "field-start" || this.#record.length > 0) this.#endRecord(out);
    this.#cr = false;
    return out;
  }

  #endField(): void {
    this.#record.push(this.#field);
    this.#field = "";
    this.#state = "field-start";
  }

  #endRecord(out: CsvRecord[]): void {
    const blank = this.#state === "field-start" && this.#record.length === 0;
    if (!blank) {
      this.#endField();
      out.push({ fields: this.#record, line: this.#recordLine });
    }
    this.#record = [];
    this.#field = "";
    this.#state = "field-start";
    this.#recordLine = this.#line;
  }
}

/** Parses a whole CSV text (convenience over {@linkcode CsvParser}). */
export function parseCsv(text: string): CsvRecord[] {
  const parser = new CsvParser();
  return [...parser.push(text), ...parser.end()];
}
