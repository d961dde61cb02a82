/**
 * What every `deno task <name>` CLI in scripts/ shares: `--help`/`-h` prints the usage and exits 0, a failure is one
 * line `<name>: <message>` on stderr (no stack trace; `SPLITEE_DEBUG=1` adds it), output folders are created, and a
 * missing input under the shared data folder says where the datasets come from (`docs/data.md`).
 *
 * ```ts
 * if (import.meta.main) await runCli("exits", USAGE, (args) => exits(args));
 * ```
 * @module
 */

import { dirname } from "node:path";

/** A failure the user can act on: printed as `<name>: <message>`, exit code `code` (2: bad arguments, 1: other). */
export class CliError extends Error {
  override name = "CliError";
  /**
   * @param message one line saying what is wrong and, where there is one, what to do
   * @param code the process exit code
   */
  constructor(message: string, readonly code = 1) {
    super(message);
  }
}

/** True when the arguments ask for the usage text (`--help` or `-h` anywhere). */
export function wantsHelp(args: readonly string[]): boolean {
  return args.includes("--help") || args.includes("-h");
}

/** The one line printed for `error`: its message with line breaks folded, prefixed by the CLI's name. */
export function errorLine(name: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const oneLine = message.split("\n").map((l) => l.trim()).filter((l) => l !== "").join("; ");
  return `${name}: ${oneLine || "failed"}`;
}

/** Where CLIs print. */
export interface CliIo {
  /** Prints the usage text (stdout). */
  readonly print?: (text: string) => void;
  /** Prints the error line (stderr). */
  readonly error?: (text: string) => void;
}

/**
 * Runs `main` the way every CLI in scripts/ does and returns the exit code: the usage for `--help`/`-h` (0); `main`'s
 * own code (or 0); one line for any thrown error, with the error's code for a {@link CliError} and 1 otherwise.
 */
export async function cliExitCode(
  name: string,
  usage: string,
  main: (args: string[]) => Promise<number | void> | number | void,
  args: readonly string[],
  io: CliIo = {},
): Promise<number> {
  const print = io.print ?? console.log, error = io.error ?? console.error;
  if (wantsHelp(args)) {
    print(usage);
    return 0;
  }
  try {
    return (await main([...args])) ?? 0;
  } catch (e) {
    error(errorLine(name, e));
    if (Deno.env.get("SPLITEE_DEBUG") && e instanceof Error && e.stack) error(e.stack);
    return e instanceof CliError ? e.code : 1;
  }
}

/** {@link cliExitCode}, then exits the process with it. */
export async function runCli(
  name: string,
  usage: string,
  main: (args: string[]) => Promise<number | void> | number | void,
  args: readonly string[] = Deno.args,
): Promise<never> {
  Deno.exit(await cliExitCode(name, usage, main, args));
}

/** Creates the folder that will hold `file` (like `mkdir -p $(dirname file)`). */
export async function ensureParentDir(file: string): Promise<void> {
  const dir = dirname(file);
  if (dir !== "." && dir !== "") await Deno.mkdir(dir, { recursive: true });
}

/**
 * The hint added when an input file is missing: for a path inside the shared data folder (`shared/data/` or
 * `$SPLITEE_DATA`), where the datasets come from; otherwise nothing.
 */
export function missingDataHint(path: string): string {
  const env = Deno.env.get("SPLITEE_DATA");
  const inData = /(^|\/)shared\/data\//.test(path) || (env !== undefined && env !== "" && path.startsWith(env));
  return inData
    ? " (the datasets are not part of the repository: docs/data.md says where to get each one and where to put it)"
    : "";
}
