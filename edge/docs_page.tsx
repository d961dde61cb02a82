/**
 * `GET /docs`: the API page, server-rendered (Hono JSX) from the OpenAPI document: every route with its parameters,
 * request examples as curl commands against the edge that serves the page, every response status and body, and the
 * schemas as field tables. No script, no CDN, no external request; long commands wrap instead of scrolling.
 * @module
 */

import type { FC } from "hono/jsx";
import { raw } from "hono/html";

type Schema = Record<string, unknown>;
interface Operation {
  readonly summary?: string;
  readonly description?: string;
  readonly parameters?: readonly {
    name: string;
    in: string;
    required?: boolean;
    description?: string;
    schema?: { enum?: string[] };
  }[];
  readonly requestBody?: {
    readonly description?: string;
    readonly content?: Record<
      string,
      { schema?: Schema; examples?: Record<string, { summary?: string; value: unknown }> }
    >;
  };
  readonly responses?: Record<string, { description?: string; content?: Record<string, { schema?: Schema }> }>;
}
interface Doc {
  readonly info: { readonly title: string; readonly description: string };
  readonly paths: Record<string, Record<string, Operation>>;
  readonly components?: { readonly schemas?: Record<string, Schema> };
}

const STYLE = `body{font:15px/1.55 system-ui,sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
h2{margin-top:2.2rem;border-top:1px solid #ddd;padding-top:1rem}h3{margin-bottom:.3rem}
table{border-collapse:collapse;width:100%;margin:.4rem 0}td,th{border-bottom:1px solid #e3e3e3;padding:.35rem;text-align:left;vertical-align:top}
code,pre{background:#f3f4f6;border-radius:4px;font-size:.9em}code{padding:.05rem .3rem}
pre{padding:.8rem;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word}
.method{font-weight:700;text-transform:uppercase}td{overflow-wrap:anywhere}
@media (max-width:40rem){.statuses{display:none}}.muted{color:#555}a{color:#0b57d0}
@media (prefers-color-scheme:dark){body{background:#121212;color:#e6e6e6}code,pre{background:#24262a}a{color:#8ab4f8}
.muted{color:#aaa}td,th{border-color:#333}h2{border-color:#333}}`;

/** Renders the docs page of `doc`; curl examples target `origin` (the edge serving the page). */
export function docsPage(doc: Record<string, unknown>, origin = "http://127.0.0.1:8000"): string {
  return "<!doctype html>" + String(<DocsPage doc={doc as unknown as Doc} origin={origin} />);
}

const DocsPage: FC<{ doc: Doc; origin: string }> = ({ doc, origin }) => {
  const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method, op, id: `${method}-${path}`.replace(/\W+/g, "-") }))
  );
  const schemas = doc.components?.schemas ?? {};
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${doc.info.title} API`}</title>
        <style>{raw(STYLE)}</style>
      </head>
      <body>
        <h1>{`${doc.info.title} API`}</h1>
        <p>{doc.info.description}</p>
        <p class="muted">
          Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). The demo page is at{" "}
          <a href="/">/</a>.
        </p>
        <table>
          <thead>
            <tr>
              <th>Method</th>
              <th>Path</th>
              <th>What</th>
              <th class="statuses">Statuses</th>
            </tr>
          </thead>
          <tbody>
            {ops.map(({ path, method, op, id }) => (
              <tr>
                <td class="method">{method}</td>
                <td>
                  <a href={`#${id}`}>
                    <code>{path}</code>
                  </a>
                </td>
                <td>{op.summary ?? ""}</td>
                <td class="statuses">{Object.keys(op.responses ?? {}).join(", ")}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {ops.map((o) => <OperationSection key={o.id} {...o} origin={origin} />)}
        <h2 id="schemas">Schemas</h2>
        {Object.entries(schemas).map(([name, schema]) => <SchemaSection key={name} name={name} schema={schema} />)}
      </body>
    </html>
  );
};

const OperationSection: FC<{ path: string; method: string; op: Operation; id: string; origin: string }> = (
  { path, method, op, id, origin },
) => {
  const body = op.requestBody?.content?.["application/json"];
  const examples = Object.values(body?.examples ?? {});
  const query = (op.parameters ?? []).filter((p) => p.in === "query");
  return (
    <section>
      <h2 id={id}>
        <span class="method">{method}</span> <code>{path}</code>
      </h2>
      <p>{op.summary}</p>
      {op.description && <p>{op.description}</p>}
      {query.length > 0 && (
        <>
          <h3>Query parameters</h3>
          <table>
            {query.map((p) => (
              <tr>
                <td>
                  <code>{p.name}</code>
                </td>
                <td>{p.required ? "required" : "optional"}</td>
                <td>{p.description ?? ""}</td>
              </tr>
            ))}
          </table>
        </>
      )}
      {body && (
        <>
          <h3>Request body</h3>
          <p>
            {op.requestBody?.description ?? ""} Schema: <TypeOf schema={body.schema ?? {}} />
          </p>
        </>
      )}
      <h3>Examples</h3>
      {examples.length > 0
        ? examples.map((e) => (
          <>
            <p class="muted">{e.summary ?? ""}</p>
            <pre>{curlPost(origin, path, e.value)}</pre>
          </>
        ))
        : <pre>{`curl -s ${shellQuote(origin + path)}`}</pre>}
      {query.map((p) =>
        p.schema?.enum?.[0] !== undefined && (
          <pre>{`curl -s ${shellQuote(`${origin}${path}?${p.name}=${encodeURIComponent(p.schema.enum[0])}`)}`}</pre>
        )
      )}
      <h3>Responses</h3>
      <table>
        {Object.entries(op.responses ?? {}).map(([status, r]) => {
          const [type, media] = Object.entries(r.content ?? {})[0] ?? [];
          return (
            <tr>
              <td>
                <code>{status}</code>
              </td>
              <td>{r.description ?? ""}</td>
              <td>
                {type && <code>{type}</code>} {media?.schema && <TypeOf schema={media.schema} />}
              </td>
            </tr>
          );
        })}
      </table>
    </section>
  );
};

const SchemaSection: FC<{ name: string; schema: Schema }> = ({ name, schema }) => {
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  const required = new Set((schema.required ?? []) as string[]);
  return (
    <section>
      <h3 id={`schema-${name}`}>{name}</h3>
      {typeof schema.description === "string" && <p>{schema.description}</p>}
      <table>
        <thead>
          <tr>
            <th>Field</th>
            <th>Type</th>
            <th>Description</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(props).map(([field, s]) => (
            <tr>
              <td>
                <code>{field}</code>
                {required.has(field) ? "" : " (optional)"}
              </td>
              <td>
                <TypeOf schema={s} />
              </td>
              <td>{typeof s.description === "string" ? s.description : ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
};

/** A schema's type in words, with links to named schemas. */
const TypeOf: FC<{ schema: Schema }> = ({ schema }) => {
  if (typeof schema.$ref === "string") {
    const name = schema.$ref.split("/").pop() ?? "";
    return <a href={`#schema-${name}`}>{name}</a>;
  }
  if (Array.isArray(schema.oneOf)) {
    return (
      <>
        {(schema.oneOf as Schema[]).map((s, i) => (
          <>
            {i > 0 ? " or " : ""}
            <TypeOf schema={s} />
          </>
        ))}
      </>
    );
  }
  const type = Array.isArray(schema.type) ? schema.type.join(" | ") : String(schema.type ?? "any");
  if (type === "array" && schema.items) {
    return (
      <>
        array of <TypeOf schema={schema.items as Schema} />
      </>
    );
  }
  const bounds = [
    schema.minimum !== undefined ? `≥ ${schema.minimum}` : "",
    schema.maximum !== undefined ? `≤ ${schema.maximum}` : "",
    schema.maxLength !== undefined ? `≤ ${schema.maxLength} chars` : "",
  ].filter((b) => b !== "");
  const values = Array.isArray(schema.enum) ? `: ${(schema.enum as unknown[]).map(String).join(", ")}` : "";
  return <>{`${type}${bounds.length ? ` (${bounds.join(", ")})` : ""}${values}`}</>;
};

function curlPost(origin: string, path: string, value: unknown): string {
  return `curl -s -X POST ${shellQuote(origin + path)} \\\n  -H 'content-type: application/json' \\\n  -d ${
    shellQuote(JSON.stringify(value))
  }`;
}

function shellQuote(s: string): string {
  return /^[\w:/.-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
