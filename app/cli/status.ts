/**
 * @module
 * `bifrost status`: the devices, polls and sinks of a running gateway, through its HTTP API
 * (`GET /api/v1/devices` and `/stats`), and with `run --git` the deployed revision
 * (`/deploy`). A gateway that does not answer is one line and exit code 1; `--json` prints
 * the documents as one JSON object for scripts.
 */

import { errorMessage } from "../../engine/errors.ts";
import { parseCli, UsageError, withUsage } from "./_args.ts";

/** Usage of `bifrost status`. */
export const STATUS_USAGE =
  "Usage: bifrost status [--url http://127.0.0.1:8720] [--token T] [--ca FILE] [--json]\n" +
  "       (the token also from BIFROST_TOKEN; --ca trusts a self-signed certificate)";

interface Device {
  name: string;
  driver: string;
  state: string;
  since: number;
  lastError?: string;
  latencyMs?: number;
  reads: number;
  readErrors: number;
}

interface Stats {
  polls: Record<string, { runs: number; skipped: number; p99LateMs: number }>;
  subscriptions: Record<string, { pushes: number; batches: number }>;
  sinks: Record<string, { use: string; counters: Record<string, number> }>;
}

interface Deploy {
  repository: string;
  ref: string;
  path: string;
  commit?: string;
  appliedAt?: number;
  lastFetch?: { at: number; ok: boolean; error?: string };
  lastAttempt?: { commit: string; at: number; result: string; errors: string[] };
}

/** `GET /api/v1/flows`: the running revision and the hot reload's outcome. */
interface Flows {
  revision: string;
  reload?: { revision: number; ok: boolean; errors: string[]; attemptedAt?: number };
}

async function get<T>(
  base: string,
  path: string,
  token: string | undefined,
  client?: Deno.HttpClient,
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${base}/api/v1${path}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(5000),
      ...(client ? { client } : {}),
    });
  } catch (e) {
    const detail = `${errorMessage(e)} ${e instanceof Error ? String(e.cause ?? "") : ""}`;
    const why = /refused|os error 111/i.test(detail) ? "connection refused" : detail.trim();
    throw new Error(
      `No gateway answers at ${base}: ${why} (is \`bifrost run\` running? see --url)`,
    );
  }
  const body = await res.json().catch(() => undefined) as
    | { error?: { message?: string } }
    | undefined;
  if (!res.ok) {
    throw new Error(
      `The gateway at ${base} answered ${res.status}: ${body?.error?.message ?? res.statusText}`,
    );
  }
  return body as T;
}

function age(since: number): string {
  const s = Math.max(0, Math.round((Date.now() - since) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
}

/** Runs `status`; returns the exit code. */
export function statusCommand(args: string[]): Promise<number> {
  return withUsage(STATUS_USAGE, async () => {
    const { values, positionals } = parseCli(args, {
      url: { type: "string", default: "http://127.0.0.1:8720" },
      token: { type: "string" },
      ca: { type: "string" },
      json: { type: "boolean", default: false },
    });
    if (values.help) {
      console.log(STATUS_USAGE);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}"`);
    const base = values.url.replace(/\/+$/, "");
    if (!/^https?:\/\/./.test(base)) {
      throw new UsageError(
        `Cannot use --url "${values.url}": expected http://HOST:PORT or https://HOST:PORT`,
      );
    }
    const token = values.token ?? Deno.env.get("BIFROST_TOKEN");
    const client = values.ca === undefined
      ? undefined
      : Deno.createHttpClient({ caCerts: [await Deno.readTextFile(values.ca)] });
    try {
      const [{ devices }, stats, deploy, flows] = await Promise.all([
        get<{ devices: Device[] }>(base, "/devices", token, client),
        get<Stats>(base, "/stats", token, client),
        // A gateway without --git (or older than it) answers 404: no deploy section.
        get<Deploy>(base, "/deploy", token, client).catch(() => undefined),
        get<Flows>(base, "/flows", token, client).catch(() => undefined),
      ]);
      if (values.json) {
        console.log(
          JSON.stringify(
            { devices, ...stats, ...(deploy ? { deploy } : {}), ...(flows ? { flows } : {}) },
            null,
            2,
          ),
        );
        return 0;
      }
      const out: string[] = [];
      if (deploy) out.push(...deployLines(deploy), "");
      if (flows) out.push(...flowLines(flows), "");
      out.push(table([
        ["DEVICE", "DRIVER", "STATE", "SINCE", "LATENCY", "READS", "ERRORS", "LAST ERROR"],
        ...devices.map((d) => [
          d.name,
          d.driver,
          d.state,
          age(d.since),
          d.latencyMs === undefined ? "-" : `${d.latencyMs.toFixed(1)}ms`,
          String(d.reads),
          String(d.readErrors),
          d.lastError ?? "",
        ]),
      ]));
      const polls = Object.entries(stats.polls);
      const subs = Object.entries(stats.subscriptions);
      if (polls.length + subs.length > 0) {
        out.push(
          "",
          table([
            ["POLL", "RUNS", "SKIPPED", "P99 LATE"],
            ...polls.map((
              [n, p],
            ) => [n, String(p.runs), String(p.skipped), `${Math.round(p.p99LateMs)}ms`]),
            ...subs.map(([n, s]) => [n, `${s.pushes} pushes`, "-", "-"]),
          ]),
        );
      }
      const sinks = Object.entries(stats.sinks);
      if (sinks.length > 0) {
        out.push(
          "",
          table([
            ["SINK", "USE", "PROCESSED", "DEPTH", "ERRORS", "DROPPED"],
            ...sinks.map(([n, s]) => [
              n,
              s.use,
              String(s.counters.processed ?? 0),
              String(s.counters.depth ?? 0),
              String(s.counters.errors ?? 0),
              String(s.counters.droppedRecords ?? 0),
            ]),
          ]),
        );
      }
      console.log(out.join("\n"));
      return 0;
    } finally {
      client?.close();
    }
  });
}

/** The running flows and, when hot reload rejected the last change, why. */
function flowLines(f: Flows): string[] {
  const r = f.reload;
  const lines = [`flows ${f.revision}${r ? ` (reload revision ${r.revision})` : ""}`];
  if (r && !r.ok) {
    const when = r.attemptedAt === undefined ? "" : ` ${age(r.attemptedAt)} ago`;
    lines.push(`last flow change rejected${when}; the running flows carry on:`);
    for (const e of r.errors.slice(0, 10)) lines.push(`  ${e}`);
    if (r.errors.length > 10) lines.push(`  … ${r.errors.length - 10} more`);
  }
  return lines;
}

/** The deploy section: running revision, last fetch, last revision refused. */
function deployLines(d: Deploy): string[] {
  const lines = [
    table([
      ["REVISION", "REF", "PATH", "APPLIED", "REPOSITORY"],
      [
        d.commit?.slice(0, 12) ?? "-",
        d.ref,
        d.path,
        d.appliedAt ? `${age(d.appliedAt)} ago` : "-",
        d.repository,
      ],
    ]),
  ];
  if (d.lastFetch && !d.lastFetch.ok) {
    lines.push(`last fetch failed ${age(d.lastFetch.at)} ago: ${d.lastFetch.error ?? ""}`);
  }
  const a = d.lastAttempt;
  if (a && (a.result === "rejected" || a.result === "rolled-back")) {
    lines.push(`revision ${a.commit.slice(0, 12)} ${a.result} ${age(a.at)} ago:`);
    for (const e of a.errors.slice(0, 10)) lines.push(`  ${a.result}: ${e}`);
    if (a.errors.length > 10) lines.push(`  … ${a.errors.length - 10} more`);
  }
  return lines;
}
