/**
 * The demo page in a real browser: headless Chromium from Debian (`apt-get install -y chromium`) driven by
 * playwright-core, against the real edge (onnxruntime-web) wired in-process to the real gateway (onnxruntime-node),
 * served on loopback. Skipped, with a warning, where `/usr/bin/chromium` is absent. Screenshots go to a temporary
 * folder, or to tests/fixtures/browser/ with `UPDATE_SCREENSHOTS=1`.
 * @module
 */

import { expect } from "expect";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { loadWebRunner } from "../edge/runtime/onnx.ts";
import { createEdgeService } from "../edge/service.ts";
import { testConfig } from "../edge/testing.ts";
import { createApp as createGatewayApp } from "../gateway/app.ts";
import { loadNodeRunner, readModelDir } from "../gateway/runtime/onnx.ts";

/** Debian's Chromium; `SPLITEE_CHROMIUM` points the test at another build. */
const CHROMIUM = Deno.env.get("SPLITEE_CHROMIUM") ?? "/usr/bin/chromium";
/** Playwright adds `--headless` and a fresh temporary `--user-data-dir` itself (removed on close). */
const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
];
const JAEGER = "http://jaeger.invalid:16686";
const MAX_TEXT_CHARS = 400;
/** Generous: a busy 2-core CI machine runs the real model in both runtimes. */
const CLASSIFY_TIMEOUT_MS = 60_000;
const hasChromium = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();
if (!hasChromium) {
  console.warn(`tests/browser_test.ts: SKIPPED: ${CHROMIUM} not found (install it with: apt-get install -y chromium)`);
}

/**
 * A real edge + gateway on loopback serving `models` (folders; the first is the default), with the page;
 * `gatewayUp = false` makes every offload fail to connect.
 */
async function startStack(env: Record<string, string>, models = ["models/sentiment"]) {
  const loaded = await Promise.all(models.map(async (dir) => {
    const source = await readModelDir(dir);
    const { manifest } = source;
    return {
      manifest,
      vocabText: new TextDecoder().decode(await source.files(manifest.tokenizer.vocab)),
      // Open every session now, so a slow machine pays for it here and not inside the first request's timeout.
      gatewayRunner: await loadNodeRunner(source, { intraOpThreads: 1, preload: "all" }),
      edgeRunner: await loadWebRunner(source, { preload: "all" }),
    };
  }));
  const gateway = createGatewayApp({
    models: loaded.map((m) => ({ runner: m.gatewayRunner, model: m.manifest })),
    provider: "cpu",
    auth: { mode: "insecure-local" },
  });
  const kv = await Deno.openKv(":memory:");
  const state = { gatewayUp: true };
  const edge = await createEdgeService({
    config: testConfig({ EDGE_MAX_TEXT_CHARS: String(MAX_TEXT_CHARS), EDGE_JAEGER_UI_URL: JAEGER, ...env }),
    models: loaded.map((m) => ({ manifest: m.manifest, vocabText: m.vocabText, runner: m.edgeRunner })),
    kv,
    fetch: (req) =>
      state.gatewayUp ? Promise.resolve(gateway.fetch(req)) : Promise.reject(new TypeError("Connection refused")),
    seed: 7,
  });
  // The edge serves the page at `/` itself (edge/ui mounted by createApp).
  const app = edge.app;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    state,
    async close() {
      await server.shutdown();
      await edge.close();
      kv.close();
      for (const m of loaded) {
        await m.edgeRunner.dispose();
        await m.gatewayRunner.dispose();
      }
    },
  };
}

/** Collects console errors, page errors and requests that leave the page's origin. */
function watch(page: Page, origin: string) {
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console.error: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("request", (r) => {
    if (!r.url().startsWith(origin)) problems.push(`request outside the edge: ${r.url()}`);
  });
  return problems;
}

/** Types `text` into the focused box with the keyboard, presses Enter and returns the edge's JSON answer. */
async function submitTyped(page: Page, text: string): Promise<Record<string, unknown>> {
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Backspace");
  await page.keyboard.type(text);
  const response = page.waitForResponse((r) => r.url().endsWith("/v1/classify"), { timeout: CLASSIFY_TIMEOUT_MS });
  await page.keyboard.press("Enter");
  const body = await (await response).json();
  await page.waitForSelector("#result-body, #problem");
  return body;
}

async function screenshotDir(): Promise<string> {
  if (Deno.env.get("UPDATE_SCREENSHOTS") === "1") return new URL("./fixtures/browser/", import.meta.url).pathname;
  return await Deno.makeTempDir({ prefix: "splitee-browser-" });
}

/**
 * Polls `expression` in the page until it is truthy. `page.waitForFunction` would re-evaluate a string with `eval`,
 * which the page's CSP (no 'unsafe-eval') refuses; `page.evaluate` goes through the DevTools protocol instead.
 */
async function waitUntil(page: Page, expression: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await page.evaluate(expression))) {
    if (Date.now() > end) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Elements whose box ends right of the viewport (visually hidden helpers excluded); runs in the page. */
const OVERFLOW_CHECK = `(() => {
  const width = document.documentElement.clientWidth;
  const elements = [];
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > width + 0.5 && !el.closest(".visually-hidden, .skip")) {
      elements.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + " right=" + Math.round(r.right));
    }
  }
  return { scrollWidth: document.documentElement.scrollWidth, width, elements };
})()`;

function overflowing(page: Page): Promise<{ scrollWidth: number; width: number; elements: string[] }> {
  return page.evaluate(OVERFLOW_CHECK);
}

Deno.test({
  name: "the page classifies through the real edge and gateway in headless Chromium, with the keyboard only",
  ignore: !hasChromium,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const context: BrowserContext = await chromium.launchPersistentContext("", {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1280, height: 900 },
      timeout: 30_000,
    });
    context.setDefaultTimeout(15_000);
    const shots = await screenshotDir();
    try {
      await t.step(
        "a typed sentence submitted with Enter renders its label, one bar per edge exit and the split layer",
        async () => {
          const stack = await startStack({});
          const page = await context.newPage();
          try {
            const problems = watch(page, stack.url);
            await page.goto(stack.url);
            await page.keyboard.press("Tab");
            expect(await page.evaluate("document.activeElement?.className")).toBe("skip");
            await page.keyboard.press("Enter");
            await page.keyboard.press("Tab");
            expect(await page.evaluate("document.activeElement?.id")).toBe("text");

            const r = await submitTyped(page, "a gorgeous, witty, seductive movie.");
            expect(["negative", "positive"]).toContain(r.label);
            expect(await page.textContent("#result-label")).toBe(r.label);
            const confs = r.exitConfidences as number[];
            expect(confs.length).toBeGreaterThan(0);
            expect(await page.locator("#exit-chart rect.conf").count()).toBe(confs.length);
            expect(await page.textContent("#result-split")).toBe(String(r.splitLayer));
            expect(await page.textContent("#result-where")).toBe(
              `${r.answeredBy === "gateway" ? "Gateway" : "Edge"} answered at layer ${r.exitLayer}`,
            );
            expect(await page.evaluate("document.activeElement?.id")).toBe("text"); // ready for the next one
            // The caption names the exits that ran, and p reads like the label's bar (same precision).
            const n = confs.length;
            expect(await page.textContent("#exit-caption")).toBe(
              n === 1
                ? "Confidence at the one exit the edge computed (C1)"
                : `Confidence at each of the ${n} exits the edge computed (C1…C${n})`,
            );
            expect(await page.textContent("#result-p")).toBe(`p = ${await page.textContent(".probs li.top .pct")}`);

            // The policy panel follows: 12 arms, rounds counted.
            await waitUntil(page, 'document.querySelectorAll("#arm-rows tr").length === 12');
            expect(await page.locator("#arm-chart rect.arm").count()).toBeGreaterThan(0);
            for (const text of ["the plot is thin and the jokes fall flat.", "an utterly charming film.", "boring."]) {
              const next = await submitTyped(page, text);
              expect(await page.textContent("#result-label")).toBe(next.label);
            }
            await waitUntil(page, 'Number(document.getElementById("policy-rounds")?.textContent) >= 4');
            // "Split layer chosen" counts the four decided requests, one bar each (not side-information updates).
            await waitUntil(page, 'document.getElementById("pulls-window")?.textContent.includes("last 4 requests")');
            const chosen = await page.evaluate(
              'Array.from(document.querySelectorAll("#arm-rows tr td:nth-child(2)")).reduce((n, td) => n + Number(td.textContent), 0)',
            );
            expect(chosen).toBe(4);

            // Readable problems: nothing typed (checked in the page), then a text over the edge's limit (413).
            await page.keyboard.press("Control+A");
            await page.keyboard.press("Backspace");
            await page.keyboard.press("Enter");
            expect(await page.textContent("#result")).toContain("Type some text to classify.");
            const tooLong = await submitTyped(page, "so long ".repeat(60));
            expect(tooLong.status).toBe(413);
            const problem = await page.textContent("#problem");
            expect(problem).toContain("Classification failed: Text too long (HTTP 413)");
            expect(problem).toContain(`at most ${MAX_TEXT_CHARS} characters`);
            // Chromium logs every 4xx fetch as "Failed to load resource"; this one was asked for.
            const expected = problems.findIndex((p) => /Failed to load resource: .* status of 413/.test(p));
            expect(expected).toBeGreaterThanOrEqual(0);
            problems.splice(expected, 1);

            const last = await submitTyped(page, "a gorgeous, witty, seductive movie.");
            expect(await page.locator("#exit-chart rect.conf").count()).toBe((last.exitConfidences as number[]).length);
            await page.waitForSelector("#offload-spark polyline", { state: "attached", timeout: 10_000 });
            await page.screenshot({ path: `${shots}/page.png`, fullPage: true });

            await page.setViewportSize({ width: 360, height: 800 });
            // The charts are redrawn at the new width (text stays 12 px).
            await waitUntil(
              page,
              'document.getElementById("exit-chart").viewBox.baseVal.width < 360 && ' +
                'document.getElementById("arm-chart").viewBox.baseVal.width < 360',
            );
            const o = await overflowing(page);
            expect(o.elements).toEqual([]);
            expect(o.scrollWidth).toBeLessThanOrEqual(o.width);
            await page.screenshot({ path: `${shots}/page-360.png`, fullPage: true });
            expect(problems).toEqual([]);
          } finally {
            await page.close();
            await stack.close();
          }
        },
      );

      await t.step(
        "an offloaded request shows the gateway's exit; with the gateway down the answer is degraded",
        async () => {
          // Always split at layer 3 and never exit there (alpha 1): every request goes to the gateway.
          const stack = await startStack({ SPLITEE_POLICY: "fixed-3", SPLITEE_ALPHA: "1" });
          const page = await context.newPage();
          try {
            const problems = watch(page, stack.url);
            await page.goto(stack.url);
            await page.focus("#text");
            const r = await submitTyped(page, "an utterly charming film.");
            expect(r.answeredBy).toBe("gateway");
            expect(await page.textContent("#result-where")).toBe("Gateway answered at layer 12");
            expect(await page.textContent("#result-split")).toBe("3");
            expect(await page.locator("#exit-chart rect.conf").count()).toBe(3);
            expect(await page.locator("#exit-chart rect.gw").count()).toBe(1);
            await page.screenshot({ path: `${shots}/page-gateway.png` });

            stack.state.gatewayUp = false;
            const d = await submitTyped(page, "an utterly charming film.");
            expect(d.degraded).toBe(true);
            expect(await page.textContent("#result-degraded")).toContain("Degraded: gateway");
            expect(problems).toEqual([]);
          } finally {
            await page.close();
            await stack.close();
          }
        },
      );

      await t.step(
        "a pair model picked with the keyboard shows the second box, answers the pair and its own policy",
        async () => {
          const stack = await startStack({}, ["models/sentiment", "models/entailment"]);
          const page = await context.newPage();
          try {
            const problems = watch(page, stack.url);
            await page.goto(stack.url);
            expect(await page.isVisible("#pair-field")).toBe(false);
            await page.focus("#model");
            await page.keyboard.press("ArrowDown"); // the second option: entailment-en
            expect(await page.inputValue("#model")).toBe("entailment-en");
            await page.waitForSelector("#pair-field", { state: "visible" });
            await page.focus("#text");
            await page.keyboard.type("A man is playing a guitar on stage.");
            await page.focus("#text-pair");
            const r = await submitTyped(page, "Nobody is playing music.");
            expect(r.modelId).toBe("entailment-en");
            expect(["entailment", "neutral", "contradiction"]).toContain(r.label);
            expect(await page.textContent("#result-label")).toBe(r.label);
            // The panel shows the pair model's policy (one round), not the default model's (none).
            await waitUntil(page, 'document.getElementById("policy-rounds")?.textContent === "1"');
            expect(problems).toEqual([]);
          } finally {
            await page.close();
            await stack.close();
          }
        },
      );

      await t.step("a trace id links to the configured Jaeger UI", async () => {
        const stack = await startStack({});
        const page = await context.newPage();
        try {
          const problems = watch(page, stack.url);
          // Tracing is off in-process (OTEL_DENO is read at start-up), so give the real answer a trace id.
          await page.route("**/v1/classify", async (route) => {
            const res = await route.fetch();
            await route.fulfill({
              response: res,
              json: { ...await res.json(), traceId: "4bf92f3577b34da6a3ce929d0e0e4736" },
            });
          });
          await page.goto(stack.url);
          await page.focus("#text");
          await submitTyped(page, "boring.");
          expect(await page.getAttribute("#result-trace a", "href")).toBe(
            `${JAEGER}/trace/4bf92f3577b34da6a3ce929d0e0e4736`,
          );
          expect(problems).toEqual([]);
        } finally {
          await page.close();
          await stack.close();
        }
      });
    } finally {
      await context.close();
    }
    console.log(`tests/browser_test.ts: screenshots in ${shots}`);
  },
});
