/**
 * Runs a service entry point (edge/main.ts, gateway/main.ts) as a child `deno` process for end-to-end tests: waits for
 * the line that announces its URL, keeps its output for diagnostics, and stops it with a signal.
 * @module
 */

const ROOT = new URL("../", import.meta.url);

/** A running child service. */
export interface ServiceProcess {
  /** Base URL parsed from the ready line. */
  readonly url: string;
  /** Process id (e.g. to read its RSS from `/proc`). */
  readonly pid: number;
  /** Everything it printed so far. */
  output(): string;
  /** Sends `signal` and resolves with the exit code (rejects after `timeoutMs`). */
  stop(signal?: Deno.Signal, timeoutMs?: number): Promise<number>;
  /** SIGKILLs it if still running. */
  kill(): Promise<void>;
}

/**
 * Spawns `deno run -A --unstable-kv <entry>` from the repository root with `env` added, and waits until stdout matches
 * `ready` (its first group is the URL).
 * @throws {Error} with the output when it exits or is not ready within `timeoutMs`.
 */
export async function spawnService(
  entry: string,
  env: Record<string, string>,
  ready: RegExp,
  timeoutMs = 120_000,
): Promise<ServiceProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-kv", entry],
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let log = "";
  let url: string | undefined;
  let onReady: (() => void) | undefined;
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      log += chunk;
      const m = url === undefined ? ready.exec(log) : null;
      if (m) {
        url = m[1]!.replace(/\/+$/, "");
        onReady?.();
      }
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    new Promise<void>((resolve) => (onReady = resolve)),
    status.then((s) => {
      throw new Error(`${entry} exited with ${s.code} before it was ready:\n${log}`);
    }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${entry} not ready after ${timeoutMs} ms:\n${log}`)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  return {
    url: url!,
    pid: child.pid,
    output: () => log,
    async stop(signal: Deno.Signal = "SIGTERM", stopTimeoutMs = 30_000) {
      if (!exited) child.kill(signal);
      let t: ReturnType<typeof setTimeout> | undefined;
      const s = await Promise.race([
        status,
        new Promise<never>((_, reject) => {
          t = setTimeout(() => reject(new Error(`${entry} did not stop after ${signal}:\n${log}`)), stopTimeoutMs);
        }),
      ]).finally(() => clearTimeout(t));
      await pumps;
      return s.code;
    },
    async kill() {
      if (!exited) {
        try {
          child.kill("SIGKILL");
        } catch {
          // already gone
        }
      }
      await status;
      await pumps;
    },
  };
}
