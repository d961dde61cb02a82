/**
 * Browser-side behaviour of the page (plain JavaScript kept as a string, no build step): the classify form (Enter
 * submits, Shift+Enter adds a line), the result and problem+json rendering, and the live policy panel polled every
 * 2 s while the page is visible, with offload-rate and communication sparklines kept in the page.
 * Uses the helpers of {@linkcode CHARTS_JS}; see ./bundle.ts.
 * @module
 */

/** Page behaviour. */
export const APP_JS = String.raw`
const $ = (id) => document.getElementById(id);
const POLL_MS = 2000, HISTORY = 90, CLASSIFY_TIMEOUT_MS = 30000, POLICY_TIMEOUT_MS = 5000;
const page = document.body.dataset;
const form = $("classify-form"), textEl = $("text"), pairField = $("pair-field"), pairEl = $("text-pair");
const modelEl = $("model"), resultEl = $("result"), submitBtn = $("submit"), apiKeyEl = $("api-key");
const history = { offload: [], comm: [] };
let policy = null, busy = false, pollTimer = 0, polling = false, pollAgain = false, lastPolicyError = "";
let shown = null, resizeTimer = 0; // the result on screen, redrawn when the width changes

class ApiError extends Error {
  constructor(problem) {
    super(problem.title);
    this.problem = problem;
  }
}

function headers(json) {
  const out = { accept: "application/json, application/problem+json" };
  if (json) out["content-type"] = "application/json";
  const key = apiKeyEl ? apiKeyEl.value.trim() : "";
  if (key) out.authorization = "Bearer " + key;
  return out;
}

async function fetchJson(url, init, timeoutMs) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  let res;
  try {
    res = await fetch(url, Object.assign({ signal: ctl.signal, cache: "no-store" }, init));
    const type = res.headers.get("content-type") || "";
    const text = await res.text();
    let body = null;
    if (/json/i.test(type)) {
      try {
        body = JSON.parse(text);
      } catch (_) {
        body = null;
      }
    }
    if (!res.ok) throw new ApiError(problemOf(res, body, text));
    if (body === null || typeof body !== "object") {
      throw new ApiError({ title: "Unexpected response", status: res.status, detail: "Expected JSON, got " + (type || "no content type") + "." });
    }
    return body;
  } catch (e) {
    if (e instanceof ApiError) throw e;
    if (e && e.name === "AbortError") {
      throw new ApiError({ title: "Timed out", detail: "No answer from the edge within " + timeoutMs / 1000 + " s." });
    }
    throw new ApiError({ title: "Network error", detail: "The edge could not be reached (" + (e && e.message ? e.message : e) + ")." });
  } finally {
    clearTimeout(timer);
  }
}

function problemOf(res, body, text) {
  const retryAfter = res.headers.get("retry-after");
  if (body && typeof body === "object" && typeof body.title === "string") {
    return Object.assign({}, body, { status: body.status || res.status, retryAfter });
  }
  const detail = text && !/^\s*</.test(text) ? text.slice(0, 300) : undefined;
  return { title: res.statusText || "Request failed", status: res.status, detail, retryAfter };
}

const STANDARD = ["type", "title", "status", "detail", "instance", "retryAfter"];
function renderProblem(p, heading) {
  const extras = Object.entries(p).filter(([k, v]) =>
    !STANDARD.includes(k) && v !== undefined && v !== null && describe(v) !== p.detail
  );
  return h("div", { class: "problem", id: "problem" }, [
    h("p", null, [h("strong", { text: heading + ": " + p.title }), p.status ? " (HTTP " + p.status + ")" : ""]),
    p.detail ? h("p", { text: p.detail }) : null,
    p.retryAfter ? h("p", { text: "Try again in " + p.retryAfter + " s." }) : null,
    extras.length === 0 ? null : h("dl", { class: "facts" }, extras.flatMap(([k, v]) => [
      h("dt", { text: k }),
      h("dd", { text: describe(v) }),
    ])),
    p.type && p.type !== "about:blank" ? h("p", { class: "muted" }, ["Problem type: ", h("code", { text: p.type })]) : null,
  ]);
}

// Extension members for people: strings as they are, lists of {field, message} as "field: message".
function describe(v) {
  if (typeof v === "string") return v;
  if (Array.isArray(v)) {
    return v.map((x) => (x && typeof x === "object" && "message" in x ? (x.field ? x.field + ": " : "") + x.message : describe(x)))
      .join("; ");
  }
  return JSON.stringify(v);
}

function selectedModel() {
  const opt = modelEl.selectedOptions[0] || modelEl.options[0];
  let labels = [];
  try {
    labels = JSON.parse(opt.dataset.labels || "[]");
  } catch (_) {
    labels = [];
  }
  return { id: opt.value, task: opt.dataset.task, labels };
}

function syncModel() {
  const pair = selectedModel().task === "pair";
  pairField.hidden = !pair;
  textEl.labels[0].textContent = pair ? "First text" : "Text";
}

function enterSubmits(ev) {
  if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
    ev.preventDefault();
    form.requestSubmit();
  }
}

function show(node) {
  resultEl.replaceChildren(node);
}

function fact(term, value, id) {
  return [h("dt", { text: term }), h("dd", { id }, [value])];
}

function renderResult(r, model, roundTripMs) {
  const labels = model.labels.length ? model.labels : [];
  const probs = Array.isArray(r.probabilities) ? r.probabilities : [];
  const m = (r.costs && r.costs.measured) || {};
  const offloaded = r.answeredBy === "gateway";
  const where = (offloaded ? "Gateway" : "Edge") + " answered at layer " + r.exitLayer;
  const trace = !r.traceId ? "—" : page.jaegerUrl
    ? h("a", { href: page.jaegerUrl + "/trace/" + encodeURIComponent(r.traceId), target: "_blank", rel: "noopener" }, [
      h("code", { text: r.traceId }),
      h("span", { class: "visually-hidden", text: " (opens Jaeger in a new tab)" }),
    ])
    : h("code", { text: r.traceId });
  return h("div", { id: "result-body" }, [
    h("h3", { class: "visually-hidden", text: "Result" }),
    h("p", { class: "answer" }, [
      h("span", { class: "label", text: "Label" }),
      h("span", { class: "value", id: "result-label", text: r.label }),
      isNum(probs[r.labelIndex]) ? h("span", { class: "muted", id: "result-p", text: "p = " + fmt.prob(probs[r.labelIndex]) }) : null,
    ]),
    h("p", null, [
      h("span", { class: "badge " + (offloaded ? "gateway" : "edge"), id: "result-where", text: where }),
      r.degraded ? " " : null,
      r.degraded
        ? h("span", { class: "badge degraded", id: "result-degraded",
          text: "Degraded: gateway " + (r.degradedReason ? String(r.degradedReason).replace(/[-_]/g, " ") : "unavailable") })
        : null,
      r.pinned ? " " : null,
      r.pinned ? h("span", { class: "badge", id: "result-pinned", text: "Pinned split: not learned by the policy" }) : null,
    ]),
    h("figure", null, [
      h("figcaption", { id: "exit-caption", text: exitCaption((r.exitConfidences || []).length) }),
      drawExitChart(r),
      h("p", { class: "legend" }, [
        h("span", null, [h("span", { class: "swatch bar" }), "edge exit"]),
        offloaded ? null : h("span", null, [h("span", { class: "swatch exit" }), "answered here"]),
        offloaded ? h("span", null, [h("span", { class: "swatch gw" }), "gateway exit"]) : null,
        policy && isNum(policy.alpha) ? h("span", null, [h("span", { class: "swatch threshold" }), "threshold α = " + policy.alpha]) : null,
      ]),
    ]),
    h("dl", { class: "facts" }, [
      fact("Split layer", String(r.splitLayer), "result-split"),
      fact("Edge compute", fmt.ms(m.edgeMs)),
      fact("Communication", offloaded || isNum(m.commMs) && m.commMs > 0 ? fmt.ms(m.commMs) : "— (not offloaded)"),
      fact("Gateway compute", offloaded || isNum(m.gatewayMs) && m.gatewayMs > 0 ? fmt.ms(m.gatewayMs) : "—"),
      fact("Payload", offloaded || isNum(m.payloadBytes) && m.payloadBytes > 0 ? fmt.bytes(m.payloadBytes) : "— (not offloaded)"),
      r.costs && isNum(r.costs.lambdaUnits)
        ? fact("Cost", fmt.num(r.costs.lambdaUnits, 3) + " (λ " + fmt.num(r.costs.lambda, 3) + " per edge layer, o " + fmt.num(r.costs.o, 3) + " per offload)")
        : [],
      isNum(r.tokens) ? fact("Tokens", String(r.tokens)) : [],
      fact("Round trip", fmt.ms(roundTripMs)),
      fact("Model", r.modelId || model.id),
      fact("Trace", trace, "result-trace"),
    ].flat()),
    probs.length === 0 ? null : h("ul", { class: "probs", "aria-label": "Probability of each label" }, probs.map((p, i) =>
      h("li", { class: i === r.labelIndex ? "top" : null }, [
        h("span", { text: labels[i] !== undefined ? labels[i] : "class " + i }),
        h("span", { class: "track", "aria-hidden": "true" }, [fill(p)]),
        h("span", { class: "pct", text: fmt.prob(p) }),
      ])
    )),
  ]);
}

function exitCaption(n) {
  if (n <= 1) return "Confidence at the one exit the edge computed (C1)";
  return "Confidence at each of the " + n + " exits the edge computed (C1…C" + n + ")";
}

function drawExitChart(r) {
  const layers = Math.max(policy ? policy.arms.length : 0, r.answeredBy === "gateway" ? r.exitLayer : 0);
  return exitChart(r, layers, policy ? policy.alpha : undefined, widthOf(resultEl));
}

function fill(p) {
  const node = h("span", { class: "fill" });
  node.style.width = (isNum(p) ? clamp(p, 0, 1) * 100 : 0) + "%";
  return node;
}

async function classify() {
  if (busy) return;
  const model = selectedModel();
  const pair = model.task === "pair";
  const empty = !textEl.value.trim() ? textEl : pair && !pairEl.value.trim() ? pairEl : null;
  if (empty) {
    show(h("p", { class: "problem", text: "Type " + (empty === pairEl ? "the second text" : "some text") + " to classify." }));
    empty.focus();
    return;
  }
  const body = { text: textEl.value };
  if (pair) body.textPair = pairEl.value;
  if (modelEl.options.length > 1) body.model = model.id;
  busy = true;
  form.setAttribute("aria-busy", "true");
  submitBtn.setAttribute("aria-disabled", "true");
  submitBtn.textContent = "Classifying…";
  show(h("p", { class: "muted", text: "Classifying…" }));
  const started = performance.now();
  try {
    const r = await fetchJson("/v1/classify", { method: "POST", headers: headers(true), body: JSON.stringify(body) }, CLASSIFY_TIMEOUT_MS);
    shown = { r, model, ms: performance.now() - started };
    show(renderResult(r, model, shown.ms));
    refreshPolicy();
  } catch (e) {
    shown = null;
    show(renderProblem(e.problem || { title: String(e) }, "Classification failed"));
  } finally {
    busy = false;
    form.removeAttribute("aria-busy");
    submitBtn.removeAttribute("aria-disabled");
    submitBtn.textContent = "Classify";
  }
}

// Reads the edge's /v1/policy body (edge/policy_view.ts); tolerant of absent members so an older edge still renders.
function normalizePolicy(raw) {
  const num = (x) => (isNum(x) ? x : null);
  const fixed = raw.chosenReason === "fixed"; // a baseline without UCB scores
  const arms = (Array.isArray(raw.arms) ? raw.arms : []).map((a, i) => {
    const pulls = num(a.pulls);
    // A never-observed arm has an infinite index, which JSON writes as null.
    const ucb = isNum(a.ucbIndex) ? a.ucbIndex : !(pulls > 0) && !fixed ? Infinity : null;
    return { arm: isNum(a.arm) ? a.arm : i + 1, pulls, picked: num(a.chosenRecently), mean: num(a.meanReward), ucb };
  });
  const recent = raw.recent || {};
  const costs = raw.costs || {};
  const measured = costs.measured || {};
  const best = num(raw.bestArm);
  return {
    arms,
    best: best === null ? bestByMean(arms) : best,
    chosen: num(raw.chosenArm),
    reason: typeof raw.chosenReason === "string" ? raw.chosenReason : "",
    name: typeof raw.policy === "string" ? raw.policy : "",
    t: num(raw.t),
    alpha: num(raw.alpha),
    lambda: num(costs.lambda),
    o: num(costs.o),
    costMode: typeof costs.mode === "string" ? costs.mode : "",
    offloadRate: num(recent.offloadRate),
    degradedRate: num(recent.degradedRate),
    windowSize: num(recent.size),
    commMs: num(measured.commMs),
    breaker: raw.breaker && typeof raw.breaker.state === "string" ? raw.breaker : null,
  };
}

function bestByMean(arms) {
  let best = null;
  for (const a of arms) if (isNum(a.mean) && a.pulls > 0 && (best === null || a.mean > best.mean)) best = a;
  return best ? best.arm : null;
}

function renderPolicy(p) {
  $("policy-name").textContent = p.name || "—";
  $("policy-best").textContent = isNum(p.best) ? "layer " + p.best : "—";
  $("policy-next").textContent = isNum(p.chosen) ? "layer " + p.chosen + (p.reason ? " (" + p.reason + ")" : "") : "—";
  $("policy-gateway").textContent = !p.breaker ? "—" : p.breaker.state === "closed" ? "reachable (breaker closed)"
    : p.breaker.state === "open" ? "failing: breaker open, offloads refused" : "probing (breaker half-open)";
  $("policy-gateway").className = p.breaker && p.breaker.state !== "closed" ? "problem-text" : "";
  $("policy-rounds").textContent = fmt.count(p.t);
  $("policy-costs").textContent = "λ " + fmt.num(p.lambda, 3) + ", o " + fmt.num(p.o, 3) + (p.costMode ? " (" + p.costMode + ")" : "");
  $("arm-figure").replaceChildren(armChart(p, widthOf($("arm-figure"))));
  $("pulls-figure").replaceChildren(pullsChart(p, widthOf($("pulls-figure"))));
  $("pulls-window").textContent = isNum(p.windowSize) && p.windowSize > 0
    ? "Over the last " + p.windowSize + " request" + (p.windowSize === 1 ? "" : "s") + " this edge decided (pinned ones excluded)."
    : "No request decided yet.";
  $("offload-now").textContent = fmt.pct(p.offloadRate);
  $("window-size").textContent = isNum(p.windowSize) && p.windowSize > 0
    ? (p.windowSize === 1 ? "Last request" : "Last " + p.windowSize + " requests") +
    (p.degradedRate > 0 ? ", " + fmt.pct(p.degradedRate) + " degraded" : "") : "";
  $("comm-now").textContent = fmt.ms(p.commMs);
  $("offload-spark").replaceChildren(sparkline(history.offload, "Offload rate over the last " + history.offload.length + " updates", 0, 1));
  $("comm-spark").replaceChildren(sparkline(history.comm, "Communication milliseconds over the last " + history.comm.length + " updates"));
  $("arm-rows").replaceChildren(...p.arms.map((a) =>
    h("tr", { class: a.arm === p.best ? "best" : null }, [
      h("td", { text: a.arm + (a.arm === p.best ? " (best)" : "") }),
      h("td", { text: fmt.count(a.picked) }),
      h("td", { text: fmt.count(a.pulls) }),
      h("td", { text: fmt.num(a.mean, 3) }),
      h("td", { text: a.ucb === Infinity ? "∞" : fmt.num(a.ucb, 3) }),
    ])
  ));
}

function setPolicyError(message) {
  if (message === lastPolicyError) return;
  lastPolicyError = message;
  $("policy-error").textContent = message;
}

async function refreshPolicy() {
  if (polling) {
    pollAgain = true;
    return;
  }
  clearTimeout(pollTimer);
  polling = true;
  try {
    // Each model has its own policy state: show the selected model's.
    const url = modelEl.options.length > 1 ? "/v1/policy?model=" + encodeURIComponent(selectedModel().id) : "/v1/policy";
    const p = normalizePolicy(await fetchJson(url, { headers: headers(false) }, POLICY_TIMEOUT_MS));
    policy = p;
    history.offload = history.offload.concat([p.offloadRate]).slice(-HISTORY);
    history.comm = history.comm.concat([p.commMs]).slice(-HISTORY);
    renderPolicy(p);
    $("policy-updated").textContent = "Updated " + new Date().toLocaleTimeString();
    setPolicyError("");
  } catch (e) {
    const pr = e.problem || { title: String(e) };
    setPolicyError("Policy unavailable: " + pr.title + (pr.status ? " (HTTP " + pr.status + ")" : "") + (pr.detail ? ". " + pr.detail : ""));
  } finally {
    polling = false;
    if (pollAgain) {
      pollAgain = false;
      refreshPolicy();
    } else if (!document.hidden) pollTimer = setTimeout(refreshPolicy, POLL_MS);
  }
}

form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  classify();
});
textEl.addEventListener("keydown", enterSubmits);
pairEl.addEventListener("keydown", enterSubmits);
modelEl.addEventListener("change", () => {
  syncModel();
  // Another model, another policy: start its history afresh and show it now.
  history.offload = [];
  history.comm = [];
  refreshPolicy();
});
// Charts are drawn at their container's width: redraw them when it changes (rotation, resize).
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    if (policy) renderPolicy(policy);
    const old = $("exit-chart");
    if (shown && old) old.replaceWith(drawExitChart(shown.r));
  }, 150);
});
document.addEventListener("visibilitychange", () => {
  if (document.hidden) clearTimeout(pollTimer);
  else refreshPolicy();
});
syncModel();
refreshPolicy();
`;
