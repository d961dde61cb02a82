/**
 * A captured HMAC-signed offload replayed after a gateway restart (gateway/main.ts as a child process, SIGKILLed and
 * started again on the same port): the new process's replay cache is empty, but the request was signed before it
 * started, so it is refused (401 `stale-signature`) although its timestamp is still inside the 30 s window; a request
 * signed afresh is served.
 */
import { expect } from "expect";
import { importHmacKey, signRequest, TIMESTAMP_HEADER } from "../shared/hmac.ts";
import { parseManifest } from "../shared/manifest.ts";
import { createOffloadRequest, encodeOffloadRequest, MSGPACK_CONTENT_TYPE } from "../shared/wire/mod.ts";
import { spawnService } from "./e2e_spawn.ts";

const SECRET = "replay-restart-secret-0123456789";
const READY = /serving .* on (http:\/\/\S+)/;

/** Waits until the next whole second: a signature stamped with the second a gateway started in is refused. */
const nextSecond = () => new Promise((r) => setTimeout(r, 1010 - (Date.now() % 1000)));

Deno.test({
  name: "e2e replay: a signed offload captured before a gateway restart is refused after it",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const manifest = parseManifest(
      JSON.parse(await Deno.readTextFile(new URL("../models/sentiment/manifest.json", import.meta.url))),
    );
    const body = encodeOffloadRequest(createOffloadRequest({
      model: { id: manifest.id, version: manifest.version },
      splitLayer: manifest.layers - 1,
      dims: [3, manifest.hiddenSize],
      hidden: Float32Array.from({ length: 3 * manifest.hiddenSize }, (_, i) => Math.sin(i) * 0.5),
    }));
    const key = await importHmacKey(SECRET);
    const signed = async () =>
      await signRequest(key, {
        method: "POST",
        path: "/v1/complete",
        timestamp: Math.floor(Date.now() / 1000),
        body,
      });
    const send = async (url: string, headers: Record<string, string>) => {
      const res = await fetch(`${url}/v1/complete`, {
        method: "POST",
        headers: { "content-type": MSGPACK_CONTENT_TYPE, ...headers },
        body,
      });
      return { status: res.status, text: await res.text() };
    };
    const env = {
      GATEWAY_TOKEN: SECRET,
      GATEWAY_AUTH: "hmac",
      GATEWAY_MODEL_DIR: "models/sentiment",
      GATEWAY_INTRA_OP_THREADS: "1",
    };
    let gateway = await spawnService("gateway/main.ts", { ...env, GATEWAY_PORT: "0" }, READY);
    try {
      await nextSecond();
      const captured = await signed();
      expect((await send(gateway.url, captured)).status).toBe(200);
      expect((await send(gateway.url, captured)).status).toBe(401); // replayed within the same process
      const port = new URL(gateway.url).port;
      await gateway.kill();
      gateway = await spawnService("gateway/main.ts", { ...env, GATEWAY_PORT: port }, READY);
      const replay = await send(gateway.url, captured);
      expect(Number(captured[TIMESTAMP_HEADER]) * 1000).toBeGreaterThan(Date.now() - 30_000);
      expect(replay.status).toBe(401);
      expect(JSON.parse(replay.text)).toMatchObject({ type: expect.stringContaining("stale-signature") });
      expect(JSON.parse(replay.text).detail).toContain("before this gateway started");
      // A request signed afresh is served once its timestamp's second began after the restart (whole seconds).
      await nextSecond();
      expect((await send(gateway.url, await signed())).status).toBe(200);
    } finally {
      await gateway.kill();
    }
  },
});
