/**
 * @module
 * Benchmark of the HTTP paths of `bifrost run`, each beside its floor in the same run:
 *
 * - an HTTP trigger (`POST /hooks/echo`, its function in its own process) against a bare
 *   Hono handler on `Deno.serve` calling the same function in-process;
 * - `GET /api/v1/tags` (the last-value cache, through the API's routing and error handling)
 *   against a bare Hono handler returning the same JSON.
 *
 * Both servers live in this process (a real gateway polling the Modbus simulator every
 * 50 ms, open loopback API); the load comes from `_http_load.ts` in another process
 * (`CONCURRENCY` keep-alive connections, `SECONDS` per case), pinned to the other CPU when
 * `taskset` exists. The cases run in rounds whose order rotates; it prints requests/s and
 * p50/p99 of each case (medians over the rounds) and the median of the per-round ratios.
 * Targets: tags ≥ 0.8× the bare handler; the trigger's ratio is reported.
 *
 * Run: `deno run -A scripts/bench/api_http.ts` (part of `deno task bench:api`); env
 * `BENCH_ROUNDS` (3), `BENCH_HTTP_SECONDS` (3), `BENCH_CONCURRENCY` (8).
 */

import { join } from "node:path";
import { Hono } from "hono";
import { startTestGateway } from "../../app/http/_test_gateway.ts";

const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 3);
const SECONDS = Number(Deno.env.get("BENCH_HTTP_SECONDS") ?? 3);
const CONCURRENCY = Number(Deno.env.get("BENCH_CONCURRENCY") ?? 8);

const ECHO =
  `export default (req, ctx) => ({ n: req.body.n * 2, site: ctx.params.site ?? null });\n`;

const taskset = await Deno.stat("/usr/bin/taskset").then(() => true, () => false);
if (taskset) {
  // This process (servers, gateway, and the function's process it spawns) on CPU 0.
  await new Deno.Command("taskset", { args: ["-a", "-p", "-c", "0", String(Deno.pid)] })
    .output();
}

await using t = await startTestGateway({}, {
  flow: `triggers:
  echo:
    http: { method: POST, path: /hooks/echo }
    function: echo.ts
`,
  files: { "echo.ts": ECHO },
});

// The floor: the same function, imported here, behind a bare Hono handler.
const fn = (await import(`file://${join(t.dir, "echo.ts")}`)).default as (
  req: unknown,
  ctx: unknown,
) => unknown;
const tags = await (await fetch(`${t.api}/tags`)).json();
const bare = new Hono();
bare.post("/hooks/echo", async (c) => {
  const body = await c.req.json();
  const url = new URL(c.req.url);
  const req = { method: "POST", path: url.pathname, params: {}, query: {}, headers: {}, body };
  return c.json(await fn(req, { params: {}, state: {} }));
});
bare.get("/api/v1/tags", (c) => c.json(tags));
const bareServer = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, bare.fetch);
const bareUrl = `http://127.0.0.1:${bareServer.addr.port}`;

interface Result {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(url: string, method: string, body: string): Promise<Result> {
  const args = [
    "run",
    "-A",
    new URL("./_http_load.ts", import.meta.url).pathname,
    url,
    method,
    body,
    String(CONCURRENCY),
    String(SECONDS),
  ];
  const out = await new Deno.Command(taskset ? "taskset" : Deno.execPath(), {
    args: taskset ? ["-c", "1", Deno.execPath(), ...args] : args,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
}

const BODY = JSON.stringify({ n: 21 });
const cases = {
  "trigger (function process)": () => load(`${t.http.url}/hooks/echo`, "POST", BODY),
  "bare Hono, same function": () => load(`${bareUrl}/hooks/echo`, "POST", BODY),
  "GET /api/v1/tags (cache)": () => load(`${t.api}/tags`, "GET", "-"),
  "bare Hono, same JSON": () => load(`${bareUrl}/api/v1/tags`, "GET", "-"),
} as const;
type Name = keyof typeof cases;
const names = Object.keys(cases) as Name[];
const results = new Map<Name, Result[]>(names.map((n) => [n, []]));

// Warm-up: JIT, connection pools, the function's process.
for (const n of names) await cases[n]();
for (let r = 0; r < ROUNDS; r++) {
  const order = names.map((_, i) => names[(i + r) % names.length]!);
  for (const n of order) results.get(n)!.push(await cases[n]());
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
console.log(
  `HTTP paths: ${CONCURRENCY} connections, ${SECONDS} s per case, ${ROUNDS} rounds` +
    (taskset ? " (server on CPU 0, load on CPU 1)" : " (unpinned: no taskset)"),
);
console.log(
  `${"case".padEnd(30)} ${"req/s".padStart(9)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)}`,
);
for (const n of names) {
  const rs = results.get(n)!;
  const errors = rs.reduce((s, x) => s + x.errors, 0);
  console.log(
    `${n.padEnd(30)} ${median(rs.map((x) => x.rps)).toFixed(0).padStart(9)} ${
      median(rs.map((x) => x.p50)).toFixed(2).padStart(8)
    } ${median(rs.map((x) => x.p99)).toFixed(2).padStart(8)}${
      errors ? `  (${errors} errors)` : ""
    }`,
  );
}
const ratio = (a: Name, b: Name) =>
  median(results.get(a)!.map((x, i) => x.rps / results.get(b)![i]!.rps)).toFixed(2);
console.log(`trigger / bare handler, req/s (median of rounds): ${ratio(names[0]!, names[1]!)}×`);
console.log(
  `tags / bare handler, req/s (median of rounds, aim ≥ 0.8): ${ratio(names[2]!, names[3]!)}×`,
);
await bareServer.shutdown();
