/**
 * The server-rendered page (Hono JSX): the classify form, an empty result region and the policy panel skeleton that
 * /ui/app.js fills in. No inline script or style and no external URL, so the strict CSP of ./routes.tsx holds.
 * @module
 */

import type { FC } from "hono/jsx";

/** A model the page offers (what the edge serves). */
export interface UiModel {
  readonly id: string;
  /** `"pair"` shows a second text box. */
  readonly task: "single" | "pair";
  readonly labels: readonly string[];
}

/** Properties of {@linkcode Page}. */
export interface PageProps {
  readonly models: readonly UiModel[];
  /** Jaeger UI base URL without a trailing slash; empty when not configured. */
  readonly jaegerUrl: string;
  /** Cache-busting versions of the two assets. */
  readonly versions: { readonly js: string; readonly css: string };
}

/** The whole document below the doctype. */
export const Page: FC<PageProps> = ({ models, jaegerUrl, versions }) => {
  const first = models[0];
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>SplitEE edge: early exits in split computing</title>
        <link rel="stylesheet" href={`/ui/app.css?v=${versions.css}`} />
        <link rel="icon" href="/ui/icon.svg" type="image/svg+xml" />
        <script src={`/ui/app.js?v=${versions.js}`} defer></script>
      </head>
      <body data-jaeger-url={jaegerUrl}>
        <a class="skip" href="#try">Skip to the form</a>
        <header>
          <h1>SplitEE edge</h1>
          <p class="lede">
            A 12-layer classifier with an exit after every layer, split between this edge and a gateway. The edge runs
            layers up to the split layer and answers when that exit is confident; otherwise it sends the hidden state to
            the gateway. The SplitEE-S bandit learns the split layer online.
          </p>
        </header>
        <main>
          <section class="card" aria-labelledby="try-h" id="try">
            <h2 id="try-h">Try the model</h2>
            <form id="classify-form" action="/v1/classify" method="post" novalidate>
              <div class="field" hidden={models.length < 2}>
                <label for="model">Model</label>
                <select id="model" name="model">
                  {models.map((m) => (
                    <option value={m.id} data-task={m.task} data-labels={JSON.stringify(m.labels)}>
                      {`${m.id} (${m.task === "pair" ? "text pair" : "single text"}: ${m.labels.join(", ")})`}
                    </option>
                  ))}
                </select>
              </div>
              {models.length === 1 && first !== undefined && (
                <p class="muted">
                  Model <strong>{first.id}</strong>, labels: {first.labels.join(", ")}
                </p>
              )}
              <div class="field">
                <label for="text" id="text-label">Text</label>
                <textarea id="text" name="text" rows={3} required aria-describedby="text-hint"></textarea>
              </div>
              <div class="field" id="pair-field" hidden={first?.task !== "pair"}>
                <label for="text-pair">Second text</label>
                <textarea id="text-pair" name="textPair" rows={3} aria-describedby="text-hint"></textarea>
              </div>
              <p class="hint" id="text-hint">Enter classifies, Shift+Enter starts a new line.</p>
              <details>
                <summary>API key (only if this edge requires one)</summary>
                <label for="api-key" class="visually-hidden">API key</label>
                <input id="api-key" type="password" autocomplete="off" spellcheck={false} />
              </details>
              <div class="actions">
                <button type="submit" id="submit">Classify</button>
              </div>
            </form>
            <div id="result" class="result" aria-live="polite">
              <p class="muted">The answer, where it was computed and what it cost will appear here.</p>
            </div>
          </section>
          <section class="card" aria-labelledby="policy-h" id="policy">
            <h2 id="policy-h">Live policy</h2>
            <p class="muted" id="policy-updated">Waiting for the first update…</p>
            <p id="policy-error" class="problem-text" aria-live="polite"></p>
            <dl class="facts">
              <dt>Policy</dt>
              <dd id="policy-name">—</dd>
              <dt>Best split layer</dt>
              <dd id="policy-best">—</dd>
              <dt>Next split layer</dt>
              <dd id="policy-next">—</dd>
              <dt>Gateway</dt>
              <dd id="policy-gateway">—</dd>
              <dt>Rounds</dt>
              <dd id="policy-rounds">—</dd>
              <dt>Costs</dt>
              <dd id="policy-costs">—</dd>
            </dl>
            <h3>Mean reward and UCB index per split layer</h3>
            <div id="arm-figure"></div>
            <p class="legend">
              <span>
                <span class="swatch bar"></span>mean reward
              </span>
              <span>
                <span class="swatch best"></span>best layer
              </span>
              <span>
                <span class="swatch ucb"></span>UCB index
              </span>
              <span>
                <span class="swatch chosen"></span>next split layer
              </span>
            </p>
            <h3>Split layer chosen, recent requests</h3>
            <p class="muted" id="pulls-window"></p>
            <div id="pulls-figure"></div>
            <h3>Recent window</h3>
            <p class="muted" id="window-size"></p>
            <div class="sparks">
              <figure>
                <figcaption>Offload rate</figcaption>
                <div class="now" id="offload-now">—</div>
                <div id="offload-spark"></div>
              </figure>
              <figure>
                <figcaption>Communication (moving average)</figcaption>
                <div class="now" id="comm-now">—</div>
                <div id="comm-spark"></div>
              </figure>
            </div>
            <details>
              <summary>Per-layer numbers</summary>
              <table>
                <caption class="visually-hidden">
                  Times chosen recently, observations, mean reward and UCB index per split layer
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Layer</th>
                    <th scope="col">Chosen</th>
                    <th scope="col">Observed</th>
                    <th scope="col">Mean</th>
                    <th scope="col">UCB</th>
                  </tr>
                </thead>
                <tbody id="arm-rows"></tbody>
              </table>
              <p class="muted">
                Chosen: requests of the recent window for which the policy picked this split layer. Observed: rounds
                that picked it plus the side information of deeper splits (SplitEE-S learns layers 1..i from a split at
                i), so layer 1 gains one per round.
              </p>
            </details>
          </section>
        </main>
        <footer>
          Served by the edge. Raw data: <a href="/v1/policy">/v1/policy</a>
          {jaegerUrl !== "" && (
            <>
              {" · "}
              <a href={jaegerUrl}>Jaeger</a>
            </>
          )}
          <noscript>
            <p>This page needs JavaScript; the API works without it: POST /v1/classify.</p>
          </noscript>
        </footer>
      </body>
    </html>
  );
};
