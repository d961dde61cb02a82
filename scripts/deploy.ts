/**
 * `deno task deploy [--org ORG] [--app APP] [--dry-run] [-- <deno deploy flags>]`: deploys the edge to Deno Deploy
 * with `deno deploy --prod`, using the `deploy` section of deno.json (entrypoint, included files). The organization
 * and app come from the flags, else `DENO_DEPLOY_ORG` / `DENO_DEPLOY_APP`, else deno.json (whose `"org"` is a
 * placeholder until you set it). `deno deploy` downloads its own tool from JSR, so JSR is checked first; every failure
 * is one line.
 * @module
 */

import { parseArgs } from "node:util";
import { CliError, runCli } from "./cli.ts";

/** The `--help` text. */
export const USAGE = `Usage: deno task deploy [--org ORG] [--app APP] [--dry-run] [-- <more deno deploy flags>]

Deploys the edge (edge/main.ts, the three committed models, the vendored WASM binary) to Deno Deploy with
\`deno deploy --prod\` and the "deploy" section of deno.json.

  --org ORG    your Deno Deploy organization   (else $DENO_DEPLOY_ORG, else deno.json "deploy.org")
  --app APP    the app to deploy to            (else $DENO_DEPLOY_APP, else deno.json "deploy.app": splitee-edge)
  --dry-run    print the deno deploy command instead of running it

Before the first deploy: create an organization at https://console.deno.com, then set GATEWAY_URL and
GATEWAY_TOKEN (as a secret) in the app's environment variables. The first run opens a browser to sign in;
in CI set DENO_DEPLOY_TOKEN instead. \`deno deploy\` needs https://jsr.io to be reachable.`;

/** The placeholder deno.json ships with. */
const PLACEHOLDER = /^<.*>$/;

/** Where the deploy tool is downloaded from (checked before running it). */
export const JSR_PROBE_URL = "https://jsr.io/@deno/deploy/meta.json";

/** What `deploy` reads and runs; tests replace them. */
export interface DeployIo {
  /** Environment lookup. */
  readonly env: (name: string) => string | undefined;
  /** The `deploy` section of deno.json. */
  readonly config: () => Promise<{ org?: string; app?: string }>;
  /** Resolves when JSR answers; rejects when it cannot be reached. */
  readonly probeJsr: () => Promise<void>;
  /** Runs `deno <args>`; resolves to the exit code and the last error line it printed (stack frames left out). */
  readonly run: (args: string[]) => Promise<{ code: number; lastError: string | undefined }>;
  /** Prints a line (stdout). */
  readonly print: (line: string) => void;
}

/** The organization and app to deploy to, from the flags, the environment, then deno.json. */
export function resolveTarget(
  flags: { org?: string | undefined; app?: string | undefined },
  env: (name: string) => string | undefined,
  config: { org?: string; app?: string },
): { org: string; app: string } {
  const pick = (...values: (string | undefined)[]) =>
    values.map((v) => v?.trim()).find((v) => v !== undefined && v !== "" && !PLACEHOLDER.test(v));
  const org = pick(flags.org, env("DENO_DEPLOY_ORG"), config.org);
  const app = pick(flags.app, env("DENO_DEPLOY_APP"), config.app);
  if (org === undefined) {
    throw new CliError(
      "no Deno Deploy organization: set DENO_DEPLOY_ORG=<your-org> (or pass --org <your-org>); " +
        "create one at https://console.deno.com",
      2,
    );
  }
  if (app === undefined) throw new CliError("no app name: set DENO_DEPLOY_APP=<app> (or pass --app <app>)", 2);
  return { org, app };
}

/** Runs the command; returns the exit code. */
export async function deploy(args: string[], io: DeployIo): Promise<number> {
  let values, positionals;
  try {
    ({ values, positionals } = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: { org: { type: "string" }, app: { type: "string" }, "dry-run": { type: "boolean" } },
    }));
  } catch (e) {
    throw new CliError(`${(e as Error).message} (\`deno task deploy --help\` prints the usage)`, 2);
  }
  const { org, app } = resolveTarget(values, io.env, await io.config());
  const command = ["deploy", "--org", org, "--app", app, "--prod", ...positionals];
  if (values["dry-run"]) {
    io.print(`deno ${command.join(" ")}`);
    return 0;
  }
  try {
    await io.probeJsr();
  } catch (e) {
    throw new CliError(
      `cannot reach https://jsr.io (${shortCause(e)}); \`deno deploy\` downloads its tool from JSR: ` +
        "check the network or HTTPS_PROXY and run again",
    );
  }
  const { code, lastError } = await io.run(command);
  if (code !== 0) throw new CliError(`deno deploy failed (exit ${code})${lastError ? `: ${lastError}` : ""}`);
  return 0;
}

/** The last, most specific part of a network error ("dns error: ...: Name or service not known" -> the end). */
export function shortCause(e: unknown): string {
  if (e instanceof Error && e.name === "TimeoutError") return "no answer in time";
  const message = e instanceof Error ? e.message : String(e);
  return message.split(": ").map((p) => p.trim()).filter((p) => p !== "").at(-1) ?? "unreachable";
}

/** Runs `deno <args>` with stdin/stdout inherited; stderr is passed through without stack-trace lines. */
async function runDeno(args: string[]): Promise<{ code: number; lastError: string | undefined }> {
  const child = new Deno.Command(Deno.execPath(), { args, stdin: "inherit", stdout: "inherit", stderr: "piped" })
    .spawn();
  const enc = new TextEncoder();
  let lastError: string | undefined, pending = "";
  const pass = (line: string) => {
    // deno-lint-ignore no-control-regex
    const plain = line.replace(/\x1b\[[0-9;]*m/g, "");
    if (/^\s+at /.test(plain)) return; // a stack frame
    if (/error/i.test(plain)) lastError = plain.trim();
    Deno.stderr.writeSync(enc.encode(`${line}\n`));
  };
  for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
    const lines = (pending + chunk).split("\n");
    pending = lines.pop()!;
    lines.forEach(pass);
  }
  if (pending !== "") pass(pending);
  return { code: (await child.status).code, lastError };
}

if (import.meta.main) {
  await runCli("deploy", USAGE, (args) =>
    deploy(args, {
      env: (name) => Deno.env.get(name),
      config: async () => {
        const json = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
        return json.deploy ?? {};
      },
      probeJsr: async () => {
        const res = await fetch(JSR_PROBE_URL, { signal: AbortSignal.timeout(15_000) });
        await res.body?.cancel();
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
      },
      run: runDeno,
      print: console.log,
    }));
}
