/**
 * The page's static assets as strings, with content-hash ETags. No build step: the browser code is plain JavaScript
 * kept in string modules, wrapped here in one strict-mode function scope.
 * @module
 */

import { APP_JS } from "./app.ts";
import { CHARTS_JS } from "./charts.ts";
import { APP_CSS } from "./style.ts";

/** A static asset served by the UI routes. */
export interface Asset {
  readonly body: string;
  readonly contentType: string;
  /** Strong ETag (quoted FNV-1a hash of the body). */
  readonly etag: string;
}

/** Builds the assets; called once per {@linkcode uiRoutes} (never at import time). */
export function buildAssets(): { readonly js: Asset; readonly css: Asset } {
  const js = `(() => {\n"use strict";\n${CHARTS_JS}\n${APP_JS}\n})();\n`;
  return {
    js: { body: js, contentType: "text/javascript; charset=utf-8", etag: etagOf(js) },
    css: { body: APP_CSS, contentType: "text/css; charset=utf-8", etag: etagOf(APP_CSS) },
  };
}

/** Quoted 32-bit FNV-1a hash of the UTF-16 code units, plus the length: enough to tell versions apart. */
export function etagOf(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return `"${(hash >>> 0).toString(16).padStart(8, "0")}-${text.length.toString(16)}"`;
}
