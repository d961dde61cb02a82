/**
 * Link emulator (benchmark tooling, not shipped): an HTTP-level proxy that stands between the edge and the gateway and
 * makes loopback behave like a network link with a round-trip time and a bandwidth cap (kernel netem is not
 * available here).
 *
 * Every request is read in full, then:
 * 1. uplink: it waits for the uplink to be free, occupies it for `requestBytes * 8 / bandwidthBps` seconds (a
 *    token bucket with no burst: one transfer at a time per direction, back-to-back transfers queue), then waits the
 *    one-way delay `rttMs / 2`;
 * 2. it is forwarded to the upstream and the response is read in full;
 * 3. downlink: the same with the response bytes, then `rttMs / 2`.
 *
 * Bytes counted per message are the body plus the header block (`name: value\r\n` per header, a request or status
 * line, a blank line), so a tiny message still pays for its headers. Bodies are forwarded byte for byte; hop-by-hop
 * headers are dropped. The link can be changed while running: `PUT /_link` with `{"rttMs": 20, "bandwidthBps": 1e7}`
 * (either field), `GET /_link` returns the settings and counters; or call `setLink` on the handle.
 *
 * Run: `deno run -A bench/link_emulator.ts --upstream http://127.0.0.1:8001 [--port 0] [--rtt-ms 20] [--mbps 10]`
 * (or `LINK_UPSTREAM=<url>` instead of `--upstream`)
 * (`--mbps 0` = no bandwidth cap). Prints `link emulator: listening on http://127.0.0.1:<port> -> <upstream>`.
 * @module
 */

/** The emulated link. */
export interface LinkSettings {
  /** Round-trip time added per exchange, half on the way out and half on the way back. @default {0} */
  readonly rttMs: number;
  /** Bits per second in each direction; 0 = unlimited. @default {0} */
  readonly bandwidthBps: number;
}

/** Counters since start. */
export interface LinkStats extends LinkSettings {
  readonly requests: number;
  readonly bytesUp: number;
  readonly bytesDown: number;
  readonly errors: number;
}

/** Options of {@linkcode startLinkEmulator}. */
export interface LinkEmulatorOptions extends Partial<LinkSettings> {
  /** Base URL requests are forwarded to, e.g. `http://127.0.0.1:8001`. */
  readonly upstream: string;
  /** Listening port. @default {0} (any free port) */
  readonly port?: number;
  /** Listening address. @default {"127.0.0.1"} */
  readonly hostname?: string;
}

/** A running emulator. */
export interface LinkEmulator {
  /** `http://<hostname>:<port>`. */
  readonly url: string;
  readonly port: number;
  /** Changes the link for exchanges that start from now on. */
  setLink(settings: Partial<LinkSettings>): LinkSettings;
  stats(): LinkStats;
  shutdown(): Promise<void>;
}

const HOP_BY_HOP = ["connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host"];

/** Bytes of an HTTP/1.1 header block with `firstLine`. */
export function headerBytes(firstLine: string, headers: Headers): number {
  let n = firstLine.length + 2 + 2;
  for (const [k, v] of headers) n += k.length + 2 + v.length + 2;
  return n;
}

/** Milliseconds to send `bytes` at `bps` (0 = unlimited). */
export function transmitMs(bytes: number, bps: number): number {
  return bps > 0 ? (bytes * 8 * 1000) / bps : 0;
}

/** One direction of the link: transfers occupy it back to back. */
class Direction {
  #busyUntil = 0;
  /**
   * Resolves when `bytes` have crossed it at `bps` (queued behind earlier transfers) and `latencyMs` more have
   * passed. One timer per crossing: every timer wakes a little late on a busy host, so fewer timers, less error.
   */
  async send(bytes: number, bps: number, latencyMs: number): Promise<void> {
    const now = performance.now();
    const start = Math.max(now, this.#busyUntil);
    this.#busyUntil = start + transmitMs(bytes, bps);
    await sleep(this.#busyUntil + latencyMs - now);
  }
}

function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((r) => setTimeout(r, ms));
}

function validate(s: Partial<LinkSettings>): void {
  for (const [k, v] of Object.entries(s)) {
    if (v !== undefined && (typeof v !== "number" || !Number.isFinite(v) || v < 0)) {
      throw new RangeError(`${k} must be a finite number >= 0 (got ${JSON.stringify(v)})`);
    }
  }
}

function problem(status: number, title: string, detail: string): Response {
  return new Response(JSON.stringify({ type: "about:blank", title, status, detail }), {
    status,
    headers: { "content-type": "application/problem+json" },
  });
}

function stripHopByHop(h: Headers): Headers {
  const out = new Headers(h);
  for (const k of HOP_BY_HOP) out.delete(k);
  out.delete("content-length");
  return out;
}

/** Starts the proxy (see the module docs). */
export function startLinkEmulator(options: LinkEmulatorOptions): LinkEmulator {
  const upstream = options.upstream.replace(/\/+$/, "");
  let link: LinkSettings = { rttMs: options.rttMs ?? 0, bandwidthBps: options.bandwidthBps ?? 0 };
  validate(link);
  const up = new Direction();
  const down = new Direction();
  let requests = 0, bytesUp = 0, bytesDown = 0, errors = 0;
  const stats = (): LinkStats => ({ ...link, requests, bytesUp, bytesDown, errors });
  const setLink = (s: Partial<LinkSettings>): LinkSettings => {
    validate(s);
    link = {
      rttMs: s.rttMs ?? link.rttMs,
      bandwidthBps: s.bandwidthBps ?? link.bandwidthBps,
    };
    return link;
  };

  const handler = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    if (url.pathname === "/_link") {
      if (req.method === "GET") return Response.json(stats());
      if (req.method === "PUT" || req.method === "POST") {
        try {
          const body = await req.json();
          return Response.json(setLink({
            ...(body.rttMs !== undefined ? { rttMs: body.rttMs } : {}),
            ...(body.bandwidthBps !== undefined ? { bandwidthBps: body.bandwidthBps } : {}),
          }));
        } catch (e) {
          return problem(400, "Bad link settings", String(e));
        }
      }
      return new Response(null, { status: 405, headers: { allow: "GET, PUT" } });
    }
    const { rttMs, bandwidthBps } = link;
    const reqBody = req.body ? await req.arrayBuffer() : null;
    const reqBytes = (reqBody?.byteLength ?? 0) +
      headerBytes(`${req.method} ${url.pathname}${url.search} HTTP/1.1`, req.headers);
    requests++;
    bytesUp += reqBytes;
    await up.send(reqBytes, bandwidthBps, rttMs / 2);
    let res: Response;
    let resBody: ArrayBuffer;
    try {
      res = await fetch(`${upstream}${url.pathname}${url.search}`, {
        method: req.method,
        headers: stripHopByHop(req.headers),
        body: reqBody,
        redirect: "manual",
      });
      resBody = await res.arrayBuffer();
    } catch (e) {
      errors++;
      return problem(502, "Link emulator: upstream unreachable", String(e));
    }
    const headers = stripHopByHop(res.headers);
    const resBytes = resBody.byteLength + headerBytes(`HTTP/1.1 ${res.status} ${res.statusText}`, headers);
    bytesDown += resBytes;
    await down.send(resBytes, bandwidthBps, rttMs / 2);
    const noBody = res.status === 204 || res.status === 304 || req.method === "HEAD";
    return new Response(noBody ? null : resBody, { status: res.status, statusText: res.statusText, headers });
  };

  const server = Deno.serve({
    port: options.port ?? 0,
    hostname: options.hostname ?? "127.0.0.1",
    onListen: () => {},
  }, handler);
  const addr = server.addr;
  return {
    url: `http://${addr.hostname}:${addr.port}`,
    port: addr.port,
    setLink,
    stats,
    shutdown: () => server.shutdown(),
  };
}

if (import.meta.main) {
  const { parseArgs } = await import("node:util");
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      upstream: { type: "string" },
      port: { type: "string", default: "0" },
      hostname: { type: "string", default: "127.0.0.1" },
      "rtt-ms": { type: "string", default: "0" },
      mbps: { type: "string", default: "0" },
    },
  });
  const upstream = values.upstream ?? Deno.env.get("LINK_UPSTREAM");
  if (!upstream) throw new Error("--upstream URL (or LINK_UPSTREAM) is required");
  const emulator = startLinkEmulator({
    upstream,
    port: Number(values.port),
    hostname: values.hostname,
    rttMs: Number(values["rtt-ms"]),
    bandwidthBps: Number(values.mbps) * 1e6,
  });
  console.log(`link emulator: listening on ${emulator.url} -> ${upstream}`);
  const stop = () => void emulator.shutdown().then(() => Deno.exit(0));
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
}
