/**
 * `deno task start` from a clean environment: both services come up (here on OS-chosen ports), a classification
 * works through the printed edge URL, and SIGTERM stops everything with exit code 0.
 */
import { expect } from "expect";
import { withTempDir } from "./e2e_helpers.ts";

Deno.test({
  name: "e2e start: scripts/start.ts runs gateway and edge, answers, and stops both on SIGTERM",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await withTempDir(async (dir) => {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "scripts/start.ts"],
        cwd: new URL("../", import.meta.url),
        env: {
          EDGE_PORT: "0",
          GATEWAY_PORT: "0",
          EDGE_KV_PATH: `${dir}/policy.kv`,
          GATEWAY_INTRA_OP_THREADS: "1",
        },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      let out = "";
      const pump = async (s: ReadableStream<Uint8Array>) => {
        for await (const chunk of s.pipeThrough(new TextDecoderStream())) out += chunk;
      };
      const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
      try {
        const until = Date.now() + 180_000;
        while (!/SplitEE is running/.test(out)) {
          if (Date.now() > until) throw new Error(`start.ts not ready:\n${out}`);
          await new Promise((r) => setTimeout(r, 100));
        }
        const edgeUrl = /edge:\s+(http:\/\/\S+)/.exec(out)![1]!;
        expect(out).toContain("curl -s -X POST");
        expect(out).not.toMatch(/GATEWAY_TOKEN=\S/); // the generated token is never printed
        const res = await fetch(`${edgeUrl}/v1/classify`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ text: "a charming and often affecting journey" }),
        });
        expect(res.status).toBe(200);
        expect((await res.json()).label).toMatch(/^(positive|negative)$/);
        child.kill("SIGTERM");
        const status = await child.status;
        await pumps;
        expect(status.code).toBe(0);
        expect(out).toContain("[edge] edge: stopped");
        expect(out).toContain("[gateway] gateway: stopped");
      } finally {
        try {
          child.kill("SIGKILL");
        } catch {
          // already stopped
        }
      }
    });
  },
});
