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

Deno.test({
  name: "e2e start: a crashed child is logged and restarted with backoff while the other keeps serving",
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
          EDGE_MODEL_DIR: "models/sentiment",
          GATEWAY_MODEL_DIR: "models/sentiment",
          EDGE_BREAKER_COOLDOWN_MS: "200",
        },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      let out = "";
      const pump = async (s: ReadableStream<Uint8Array>) => {
        for await (const chunk of s.pipeThrough(new TextDecoderStream())) out += chunk;
      };
      const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
      const waitFor = async (pattern: RegExp, ms = 180_000) => {
        const until = Date.now() + ms;
        let m: RegExpExecArray | null;
        while ((m = pattern.exec(out)) === null) {
          if (Date.now() > until) throw new Error(`no ${pattern} in:\n${out}`);
          await new Promise((r) => setTimeout(r, 100));
        }
        return m;
      };
      const classify = async (edgeUrl: string) => {
        const res = await fetch(`${edgeUrl}/v1/classify`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ text: "a charming and often affecting journey" }),
        });
        return { status: res.status, body: await res.json() };
      };
      try {
        await waitFor(/SplitEE is running/);
        const edgeUrl = /edge:\s+(http:\/\/\S+)/.exec(out)![1]!;
        const pids = await waitFor(/gateway pid (\d+), edge pid (\d+)/);
        const [gatewayPid, edgePid] = [Number(pids[1]), Number(pids[2])];

        // The gateway dies: the edge keeps answering (on its own) and the gateway comes back on its port.
        Deno.kill(gatewayPid, "SIGKILL");
        await waitFor(/start: gateway \(pid \d+\) killed by SIGKILL; restarting it in 1 s/);
        for (let i = 0; i < 5; i++) expect((await classify(edgeUrl)).status).toBe(200);
        await waitFor(/start: gateway restarted \(pid \d+\)/);
        expect(out).not.toContain("stopping edge and gateway");

        // The edge dies: it comes back on the same URL with its KV state; the gateway is untouched.
        Deno.kill(edgePid, "SIGKILL");
        await waitFor(/start: edge \(pid \d+\) killed by SIGKILL; restarting it in 1 s/);
        await waitFor(/start: edge restarted \(pid \d+\)/);
        expect((await classify(edgeUrl)).status).toBe(200);
        expect(out.match(/start: gateway restarted/g)).toHaveLength(1);

        child.kill("SIGINT"); // Ctrl-C (sent to start.ts alone here, not to the whole process group)
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
