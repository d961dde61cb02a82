import { expect } from "expect";
import { PAGE_CSP, uiRoutes } from "./mod.ts";

const SENTIMENT = { id: "sentiment", task: "single", labels: ["negative", "positive"] } as const;
const NLI = { id: "nli", task: "pair", labels: ["entailment", "neutral", "contradiction"] } as const;

Deno.test("uiRoutes() serves the page at / with the form, the result region and the policy panel", async () => {
  const res = await uiRoutes({ models: [SENTIMENT] }).request("/");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/html/);
  expect(res.headers.get("content-security-policy")).toBe(PAGE_CSP);
  const html = await res.text();
  expect(html.startsWith("<!doctype html>")).toBe(true);
  expect(html).toContain('<form id="classify-form"');
  expect(html).toMatch(/<label for="text"[^>]*>Text<\/label>/);
  expect(html).toMatch(/<textarea id="text" name="text"/);
  expect(html).toMatch(/<div id="result" class="result" aria-live="polite">/);
  expect(html).toContain('<button type="submit" id="submit">Classify</button>');
  expect(html).toContain('id="arm-figure"');
  expect(html).toMatch(/<script src="\/ui\/app\.js\?v=[0-9a-f]+" defer><\/script>/);
  expect(html).toMatch(/<link rel="stylesheet" href="\/ui\/app\.css\?v=[0-9a-f]+"/);
  // One single-text model: the second box and the model selector are hidden.
  expect(html).toMatch(/<div class="field" id="pair-field" hidden/);
  expect(html).toContain('data-labels="[&quot;negative&quot;,&quot;positive&quot;]"');
});

Deno.test("uiRoutes() references nothing outside the edge: no external URL, no inline script or style", async () => {
  const html = await (await uiRoutes({ models: [SENTIMENT, NLI] }).request("/")).text();
  expect(html).not.toMatch(/https?:\/\//);
  expect(html).not.toMatch(/\/\/[a-z0-9.-]+\.[a-z]{2,}\//i);
  expect(html).not.toMatch(/<script(?![^>]*\ssrc="\/ui\/)/);
  expect(html).not.toMatch(/<style|\sstyle="/);
  expect(html).not.toMatch(/\son[a-z]+="/);
  const js = await (await uiRoutes({ models: [SENTIMENT] }).request("/ui/app.js")).text();
  expect(js.match(/https?:\/\/[^"\s]*/g) ?? []).toEqual(["http://www.w3.org/2000/svg"]); // a namespace, not a fetch
});

Deno.test("uiRoutes() links trace ids to Jaeger only when a Jaeger URL is configured", async () => {
  const withJaeger = await (await uiRoutes({ models: [SENTIMENT], jaegerUrl: "http://localhost:16686/" }).request("/"))
    .text();
  expect(withJaeger).toContain('data-jaeger-url="http://localhost:16686"');
  expect(withJaeger).toContain('<a href="http://localhost:16686">Jaeger</a>');
  // The configured Jaeger link is the only URL with a host in the page.
  expect(withJaeger.match(/https?:\/\/[^"]*/g)).toEqual(["http://localhost:16686", "http://localhost:16686"]);
  const without = await (await uiRoutes({ models: [SENTIMENT] }).request("/")).text();
  expect(without).toContain('data-jaeger-url=""');
  expect(() => uiRoutes({ models: [SENTIMENT], jaegerUrl: "javascript:alert(1)" })).toThrow(/http\(s\) URL/);
  expect(() => uiRoutes({ models: [] })).toThrow(/at least one model/);
});

Deno.test("uiRoutes() offers every model and shows the second box when the first model is a pair model", async () => {
  const html = await (await uiRoutes({ models: [NLI, SENTIMENT] }).request("/")).text();
  expect(html).toContain('<option value="nli" data-task="pair"');
  expect(html).toContain('<option value="sentiment" data-task="single"');
  expect(html).toMatch(/<div class="field" id="pair-field"\s*>/);
  expect(html).toMatch(/<label for="model">Model<\/label>/);
});

Deno.test("uiRoutes() escapes model ids and labels", async () => {
  const html = await (await uiRoutes({ models: [{ id: "<x>", task: "single", labels: ['"a"', "<b>"] }] }).request("/"))
    .text();
  expect(html).not.toContain("<x>");
  expect(html).not.toContain("<b>");
  expect(html).toContain("&lt;x&gt;");
});

Deno.test("uiRoutes() serves the script and stylesheet with their content types and revalidating ETags", async () => {
  const app = uiRoutes({ models: [SENTIMENT] });
  for (
    const [path, type] of [["/ui/app.js", "text/javascript"], ["/ui/app.css", "text/css"], [
      "/ui/icon.svg",
      "image/svg+xml",
    ]]
  ) {
    const res = await app.request(path!);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain(type);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const etag = res.headers.get("etag");
    expect(etag).toMatch(/^".+"$/);
    expect((await res.text()).length).toBeGreaterThan(100);
    const again = await app.request(path!, { headers: { "If-None-Match": etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
  }
});

Deno.test("the served script is valid JavaScript in one strict scope, and the page links its current version", async () => {
  const app = uiRoutes({ models: [SENTIMENT] });
  const res = await app.request("/ui/app.js");
  const js = await res.text();
  expect(() => new Function(js)).not.toThrow();
  expect(js.startsWith('(() => {\n"use strict";')).toBe(true);
  const html = await (await app.request("/")).text();
  expect(html).toContain(`/ui/app.js?v=${res.headers.get("etag")!.replace(/\W/g, "")}`);
});
