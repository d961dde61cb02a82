/**
 * `GET /docs`: a small self-contained HTML page (no scripts, no CDN) listing the endpoints of the OpenAPI document.
 * @module
 */

/** Renders the docs page from the OpenAPI document. */
export function docsPage(doc: Record<string, unknown>): string {
  const info = doc.info as { title: string; description: string };
  const paths = doc.paths as Record<string, Record<string, { summary?: string; responses?: Record<string, unknown> }>>;
  const rows = Object.entries(paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) =>
      `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${esc(path)}</code></td>` +
      `<td>${esc(op.summary ?? "")}</td><td>${Object.keys(op.responses ?? {}).join(", ")}</td></tr>`
    )
  ).join("\n");
  const example = JSON.stringify({ text: "a charming and often affecting journey" });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(info.title)} API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left}
code,pre{background:#f4f4f4;padding:.1rem .3rem}pre{padding:.8rem;overflow:auto}</style></head>
<body><h1>${esc(info.title)} API</h1><p>${esc(info.description)}</p>
<table><thead><tr><th>Method</th><th>Path</th><th>What</th><th>Statuses</th></tr></thead><tbody>
${rows}
</tbody></table>
<h2>Example</h2>
<pre>curl -s -X POST -H 'content-type: application/json' -d '${esc(example)}' http://127.0.0.1:8000/v1/classify</pre>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
</body></html>`;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
