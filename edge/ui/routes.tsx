/**
 * `uiRoutes(options)`: the demo page as a Hono sub-app that the edge mounts at `/`. It serves `GET /` (the page),
 * `GET /ui/app.js`, `GET /ui/app.css` and `GET /ui/icon.svg`; the page itself calls the edge's `POST /v1/classify`
 * and `GET /v1/policy`. Everything is served from here (no CDN, no build step) under a CSP that allows only this
 * origin.
 * @module
 */

import { Hono } from "hono";
import type { Context } from "hono";
import { raw } from "hono/html";
import { type Asset, buildAssets } from "./client/bundle.ts";
import { Page, type UiModel } from "./page.tsx";

/** Options of {@linkcode uiRoutes}. */
export interface UiOptions {
  /**
   * Jaeger UI base URL (http or https); trace ids then link to `${jaegerUrl}/trace/<traceId>`.
   * @default {undefined} trace ids are shown without a link
   */
  readonly jaegerUrl?: string | undefined;
  /** The models the edge serves; the first one is preselected. At least one. */
  readonly models: readonly UiModel[];
}

/** Content-Security-Policy of the page: scripts, styles, images and requests from this origin only. */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" ` +
  `fill="#0b57d0"/><path d="M3 12h2V8H3zm4 0h2V5H7zm4 0h2V3h-2z" fill="#fff"/></svg>`;

/**
 * The page's routes as a Hono app; mount with `app.route("/", uiRoutes({ models, jaegerUrl }))`.
 * @throws {RangeError} when `models` is empty or `jaegerUrl` is not an http(s) URL.
 */
export function uiRoutes(options: UiOptions): Hono {
  if (options.models.length === 0) throw new RangeError("uiRoutes needs at least one model");
  const jaegerUrl = normaliseJaegerUrl(options.jaegerUrl);
  const models = options.models.map((m) => ({ id: m.id, task: m.task, labels: [...m.labels] }));
  const { js, css } = buildAssets();
  const icon: Asset = { body: ICON_SVG, contentType: "image/svg+xml", etag: `"icon-${ICON_SVG.length}"` };
  const versions = { js: js.etag.replace(/\W/g, ""), css: css.etag.replace(/\W/g, "") };

  const app = new Hono();
  app.get("/", function uiPage(c) {
    c.header("Content-Security-Policy", PAGE_CSP);
    c.header("Cache-Control", "no-cache");
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "no-referrer");
    return c.html(
      <>
        {raw("<!doctype html>")}
        <Page models={models} jaegerUrl={jaegerUrl} versions={versions} />
      </>,
    );
  });
  app.get("/ui/app.js", (c) => serveAsset(c, js));
  app.get("/ui/app.css", (c) => serveAsset(c, css));
  app.get("/ui/icon.svg", (c) => serveAsset(c, icon));
  return app;
}

/** Serves a string asset with its ETag; `no-cache` so a new deployment is picked up at the next load (a 304 else). */
function serveAsset(c: Context, asset: Asset): Response {
  const headers = {
    "Content-Type": asset.contentType,
    "Cache-Control": "no-cache",
    "ETag": asset.etag,
    "X-Content-Type-Options": "nosniff",
  };
  const match = c.req.header("If-None-Match");
  if (match !== undefined && match.split(",").some((t) => t.trim().replace(/^W\//, "") === asset.etag)) {
    return c.body(null, 304, headers);
  }
  return c.body(asset.body, 200, headers);
}

function normaliseJaegerUrl(value: string | undefined): string {
  if (value === undefined || value.trim() === "") return "";
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new RangeError(`jaegerUrl must be an http(s) URL (got ${JSON.stringify(value)})`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new RangeError(`jaegerUrl must be an http(s) URL (got ${JSON.stringify(value)})`);
  }
  return url.href.replace(/\/+$/, "");
}
