/**
 * @module
 * The sink conformance suite (`tests/conformance/sink.ts`) for the `postgres` sink against
 * a real PostgreSQL (one temp cluster for the file, `_postgres.ts`, a database per case),
 * skipped by name when the server is not installed. The sink creates its table with the value as text (`valueText`),
 * so that numbers, strings and booleans land in one column; read back by the tag's type.
 */

import postgres from "postgres";
import type { Value } from "../../engine/record.ts";
import {
  CATALOG,
  type ReadBackRecord,
  runSinkConformance,
  type SinkServer,
} from "../../tests/conformance/sink.ts";
import { PgServer, postgresMissing } from "./_postgres.ts";
import { postgresSink } from "./mod.ts";

interface Pg extends SinkServer {
  url: string;
  sql: postgres.Sql;
}

const types = new Map(
  [...CATALOG].flatMap(([d, tags]) => tags.map((t) => [`${d}/${t.name}`, t.type] as const)),
);

/** A text value back as the tag's type says. */
function typed(device: string, tag: string, text: string | null): Value {
  if (text === null) return null;
  const type = types.get(`${device}/${tag}`);
  if (type === "bool") return text === "true";
  if (type === "string") return text;
  return Number(text);
}

// One cluster for the file (initdb takes seconds on a busy machine), a database per case.
let cluster: Promise<PgServer> | undefined;
let databases = 0;
Deno.test.afterAll(async () => {
  const pg = await cluster?.catch(() => undefined);
  await pg?.[Symbol.asyncDispose]();
});

async function startPg(): Promise<Pg> {
  const pg = await (cluster ??= PgServer.start());
  const name = `conformance_${++databases}`;
  const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end({ timeout: 1 });
  }
  const url = pg.url.replace(/\/postgres$/, `/${name}`);
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const close = () => sql.end({ timeout: 1 });
  return {
    url,
    sql,
    stop: () => pg.stop(),
    start: () => pg.resume(),
    close,
    [Symbol.asyncDispose]: close,
  };
}

interface Row {
  ms: string;
  gw_ms: string;
  device: string;
  tag: string;
  value: string | null;
  quality: string;
  reason: string | null;
  seq: string;
}

async function readBack(pg: Pg): Promise<ReadBackRecord[]> {
  let rows: Row[];
  try {
    rows = await pg.sql<Row[]>`
      SELECT round(extract(epoch FROM time) * 1000)::bigint AS ms, gw_ms, device, tag, value,
        quality, reason, seq
      FROM readings`;
  } catch (e) {
    if ((e as { code?: string }).code === "42P01") return []; // Not created yet.
    throw e;
  }
  return rows.map((r) => ({
    device: r.device,
    tag: r.tag,
    value: typed(r.device, r.tag, r.value),
    quality: r.quality as ReadBackRecord["quality"],
    ...(r.reason === null ? {} : { reason: r.reason }),
    sourceTs: Number(r.ms),
    gatewayTs: Number(r.gw_ms),
    seq: Number(r.seq),
  }));
}

const missing = postgresMissing();

runSinkConformance<Pg>({
  module: postgresSink,
  ...(missing ? { unavailable: missing } : {}),
  startServer: startPg,
  config: (pg, dataDir) => ({
    url: pg.url,
    table: "readings",
    createTable: true,
    columns: {
      sourceTs: "time",
      gatewayTsMs: "gw_ms",
      device: "device",
      tag: "tag",
      valueText: "value",
      quality: "quality",
      reason: "reason",
      seq: "seq",
    },
    timeout: "2s",
    retryMin: "20ms",
    retryMax: "200ms",
    breakerCoolDown: "300ms",
    queue: { dir: dataDir },
  }),
  readBack,
  fields: ["value", "quality", "reason", "sourceTs", "gatewayTs", "seq"],
  queued: true,
  delivered: (s) => s.sent ?? 0,
  exampleBase: { url: "postgres://gw@db:5432/plant", table: "readings" },
});
