/**
 * @module
 * The dashboard: a page served by the gateway at `/dashboard/` (and `/` redirects there),
 * with devices and their health, live tag values over the WebSocket, a trend of any tag from
 * the history API drawn with uPlot, the flow graph, sink backlogs and recent writes.
 *
 * No build step: the page is plain HTML, CSS and browser JavaScript modules in this folder,
 * and uPlot's minified IIFE and CSS come from its npm package. All of them are imported as
 * text (`with { type: "text" }`), so they are part of the module graph and a `deno compile`
 * binary carries them; nothing is read from the source tree at run time.
 *
 * The files are public (they hold no data): what the page shows comes from the API, which
 * asks for a token when tokens are configured. Each file is served with a strong ETag and,
 * to a client that accepts it, gzip-compressed once (uPlot: 51 kB, about 23 kB gzipped).
 */

import { type Context, Hono } from "hono";
import { createHash } from "node:crypto";
import uplotJs from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };
import indexHtml from "./index.html" with { type: "text" };
import appCss from "./app.css" with { type: "text" };
import appJs from "./app.js" with { type: "text" };
import apiJs from "./api.js" with { type: "text" };
import graphJs from "./graph.js" with { type: "text" };
import trendJs from "./trend.js" with { type: "text" };

/** Where the dashboard lives. */
export const DASHBOARD_PATH = "/dashboard/";

const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";

/** The files of the page: name under `/dashboard/`, content type, text. */
const FILES: Record<string, [string, string]> = {
  "": ["text/html; charset=utf-8", indexHtml],
  "app.js": [JS, appJs],
  "api.js": [JS, apiJs],
  "graph.js": [JS, graphJs],
  "trend.js": [JS, trendJs],
  "app.css": [CSS, appCss],
  "uplot.js": [JS, uplotJs],
  "uplot.css": [CSS, uplotCss],
};

/**
 * What the page may load: only the gateway itself (the WebSocket included: CSP 3 lets
 * `'self'` match `ws:` on the same host), no inline script, never framed (clickjacking a
 * write button).
 */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
  "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; " +
  "form-action 'self'";

interface Asset {
  type: string;
  body: Uint8Array;
  etag: string;
  gzip?: Promise<Uint8Array>;
}

function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Response(stream).bytes();
}

/**
 * The Hono app serving the dashboard's files, to mount at `/` beside the API.
 *
 * @example
 * ```ts
 * const app = new Hono().route("/", dashboardApp());
 * ```
 */
export function dashboardApp(): Hono {
  const assets = new Map<string, Asset>();
  for (const [name, [type, text]] of Object.entries(FILES)) {
    const body = new TextEncoder().encode(text);
    const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
    assets.set(name, { type, body, etag });
  }
  const app = new Hono();
  app.get("/", (c) => c.redirect(DASHBOARD_PATH, 302));
  app.get("/dashboard", (c) => c.redirect(DASHBOARD_PATH, 301));
  const serve = async (c: Context, name: string) => {
    const a = assets.get(name);
    if (!a) return c.notFound();
    const headers: Record<string, string> = {
      "content-type": a.type,
      etag: a.etag,
      // Revalidate each load (an upgrade changes the files); an unchanged file costs a 304.
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
      vary: "accept-encoding",
    };
    if (a.type.startsWith("text/html")) {
      headers["content-security-policy"] = CSP;
      headers["referrer-policy"] = "no-referrer";
    }
    if (c.req.header("if-none-match") === a.etag) return c.body(null, 304, headers);
    if (/\bgzip\b/.test(c.req.header("accept-encoding") ?? "") && a.body.length > 1024) {
      a.gzip ??= gzip(a.body);
      const z = await a.gzip;
      return c.body(z as Uint8Array<ArrayBuffer>, 200, { ...headers, "content-encoding": "gzip" });
    }
    return c.body(a.body as Uint8Array<ArrayBuffer>, 200, headers);
  };
  app.get("/dashboard/", (c) => serve(c, ""));
  app.get("/dashboard/:file", (c) => serve(c, c.req.param("file")));
  return app;
}
