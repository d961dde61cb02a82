/**
 * `K=V[,K=V...]` command-line values of the benchmark scripts (extra environment variables for a spawned service).
 * @module
 */

/**
 * Parses `K=V[,K=V...]` (empty string: no variables); `option` names the flag in the error.
 * @throws {Error} on an entry without a name before its `=`
 */
export function parseEnvSpec(spec: string, option: string): Record<string, string> {
  return Object.fromEntries(
    spec.split(",").filter((kv) => kv !== "").map((kv) => {
      const at = kv.indexOf("=");
      if (at < 1) throw new Error(`${option} takes K=V[,K=V...], got ${JSON.stringify(spec)}`);
      return [kv.slice(0, at), kv.slice(at + 1)];
    }),
  );
}
