import { expect } from "expect";
import { CLIENT_ABORTED, clientAbortLine, readBodyLimited } from "./http_body.ts";
import { ProblemError } from "./problem.ts";

function streamed(chunks: string[], end: "close" | "hang" | Error): Request {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(new TextEncoder().encode(c));
      if (end === "close") controller.close();
      else if (end instanceof Error) controller.error(end);
    },
  });
  return new Request("http://x.test/v1/complete", { method: "POST", body });
}

async function problemOf(p: Promise<unknown>): Promise<ProblemError> {
  const e = await p.then(() => undefined, (e) => e);
  expect(e).toBeInstanceOf(ProblemError);
  return e as ProblemError;
}

Deno.test("readBodyLimited() joins the chunks of a body within its limits", async () => {
  const bytes = await readBodyLimited(streamed(["ab", "cd"], "close"), 4, { timeoutMs: 1000 });
  expect(new TextDecoder().decode(bytes)).toBe("abcd");
});

Deno.test("readBodyLimited() refuses a body over the limit, declared or streamed (413)", async () => {
  const declared = new Request("http://x.test/", { method: "POST", body: "x", headers: { "content-length": "9" } });
  expect((await problemOf(readBodyLimited(declared, 4))).status).toBe(413);
  expect((await problemOf(readBodyLimited(streamed(["abc", "de"], "close"), 4))).slug).toBe("body-too-large");
});

Deno.test("readBodyLimited() gives up on a body that stops arriving (408 body-timeout)", async () => {
  const p = await problemOf(readBodyLimited(streamed(['{"te'], "hang"), 1000, { timeoutMs: 20 }));
  expect(p.status).toBe(408);
  expect(p.slug).toBe("body-timeout");
});

Deno.test("readBodyLimited() turns a client that went away mid-body into one client-aborted problem", async () => {
  const gone = Object.assign(new Error("Cannot read request body as underlying resource unavailable"), {
    name: "BadResource",
  });
  const req = streamed(['{"te'], gone);
  const p = await problemOf(readBodyLimited(req, 1000, { timeoutMs: 1000 }));
  expect(p.status).toBe(400);
  expect(p.slug).toBe(CLIENT_ABORTED);
  const line = clientAbortLine("edge", req, p);
  expect(line).toBe(
    "edge: client aborted POST /v1/complete mid-body (BadResource: Cannot read request body as underlying resource unavailable)",
  );
  expect(line).not.toContain("\n");
});
