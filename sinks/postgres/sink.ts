/**
 * @module
 * The `postgres` sink: records are inserted into a declared table (multi-row INSERT with
 * parameters, one statement and so one transaction per delivered chunk) through the
 * durable queue and the forwarder (`sinks/_forward`). Client: postgres.js (`npm:postgres`,
 * pure JavaScript over `node:net`; one connection, reconnected on demand, no prepared
 * statements since chunk sizes vary).
 *
 * Errors: SQLSTATE class 23 (integrity constraint violation: CHECK, NOT NULL, unique,
 * foreign key) and class 22 (data exception: a value the column cannot take) are
 * permanent: the chunk is bisected and the refused rows dead-lettered with PostgreSQL's
 * message; the rest is committed. Anything else (connection refused or lost, shutdown,
 * missing table, permissions) is retried, so rows wait in the queue until it is fixed.
 *
 * The module entry (the `postgres` sink's registry record) is `mod.ts`; this file loads with the
 * first `postgres` sink a flow opens.
 */

import type postgres from "postgres";

type PgClient = ReturnType<typeof postgres>;
import { errorMessage, parseDuration } from "../../engine/plugin.ts";
import {
  createForwardSink,
  DeliveryError,
  type ForwardContext,
  type ForwardSink,
} from "../_forward/mod.ts";
import { columnPairs, createTableSql, toRows } from "./rows.ts";
import { PG_DEFAULTS, type PostgresConfig, type RecordField } from "./spec.ts";

export { columnPairs, createTableSql, toRows } from "./rows.ts";
export {
  PG_DEFAULTS,
  type PostgresConfig,
  PostgresSpec,
  RECORD_FIELDS,
  type RecordField,
} from "./spec.ts";

/** Bind parameters one statement may carry (PostgreSQL's protocol limit is 65535). */
const MAX_PARAMS = 65_535;

/** SQLSTATE classes whose rows are dead-lettered: data exception, integrity violation. */
const PERMANENT_CLASSES = ["22", "23"];

/** The URL without password, for logs. */
function displayPg(url: string): string {
  try {
    const u = new URL(url);
    u.password = "";
    return `${u.protocol}//${u.username ? u.username + "@" : ""}${u.host}${u.pathname}`;
  } catch {
    return "postgres";
  }
}

interface PgError {
  code?: string;
  message?: string;
  detail?: string;
  constraint_name?: string;
}

/** Sorts a PostgreSQL or connection error for the forwarder. */
export function pgDeliveryError(e: unknown, table: string): DeliveryError {
  const pe = (e ?? {}) as PgError;
  const code = typeof pe.code === "string" ? pe.code : undefined;
  const sqlstate = code && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  const permanent = sqlstate !== undefined && PERMANENT_CLASSES.includes(sqlstate.slice(0, 2));
  let msg = `Cannot insert into "${table}": ${errorMessage(e)}`;
  if (sqlstate) msg += ` (SQLSTATE ${sqlstate}`;
  if (sqlstate && pe.constraint_name) msg += `, constraint ${pe.constraint_name}`;
  if (sqlstate) msg += ")";
  if (pe.detail) msg += `: ${pe.detail}`;
  return new DeliveryError(msg, {
    permanent,
    ...(sqlstate ? { code: `pg ${sqlstate}` } : code ? { code } : {}),
    cause: e,
  });
}

/**
 * Creates a postgres sink.
 *
 * @example
 * ```ts
 * const sink = createPostgresSink(
 *   { url: "postgres://bifrost@127.0.0.1/plant", table: "readings", createTable: true },
 *   { name: "history", clock: systemClock },
 * );
 * ```
 */
export function createPostgresSink(
  config: PostgresConfig,
  ctx: ForwardContext,
  random?: () => number,
): ForwardSink {
  const columns = (config.columns ?? PG_DEFAULTS.columns) as Partial<Record<RecordField, string>>;
  const pairs = columnPairs(columns);
  const timeoutMs = parseDuration(config.timeout ?? PG_DEFAULTS.timeout);
  const ignore = (config.onConflict ?? PG_DEFAULTS.onConflict) === "ignore";
  const createTable = config.createTable ?? PG_DEFAULTS.createTable;
  const names = pairs.map(([, c]) => c);
  return createForwardSink({
    kind: "postgres",
    config,
    batchSize: PG_DEFAULTS.batchSize,
    ctx,
    ...(random ? { random } : {}),
    destination: () => {
      // postgres.js loads on first delivery: a gateway without PostgreSQL sinks never pays for it.
      let client: PgClient | undefined;
      const connect = async (): Promise<PgClient> =>
        client ??= (await import("postgres")).default(config.url, {
          max: 1,
          prepare: false,
          connect_timeout: Math.max(1, Math.ceil(timeoutMs / 1000)),
          idle_timeout: 60,
          onnotice: () => {},
          connection: { application_name: `bifrost-${ctx.name}`, statement_timeout: timeoutMs },
          ...(config.password !== undefined ? { password: config.password } : {}),
        });
      let created = !createTable;
      return {
        target: `PostgreSQL ${displayPg(config.url)} table ${config.table}`,
        maxBatch: Math.max(1, Math.floor(MAX_PARAMS / Math.max(1, names.length))),
        async deliver(b, c) {
          const sql = await connect();
          if (!created) {
            try {
              await sql.unsafe(createTableSql(config.table, pairs));
            } catch (e) {
              // Not permanent whatever the code: no record is at fault.
              const d = pgDeliveryError(e, config.table);
              throw new DeliveryError(d.message, { permanent: false, cause: e });
            }
            created = true;
          }
          const rows = toRows(b, pairs, c.historical);
          const q = ignore
            ? sql`INSERT INTO ${sql(config.table)} ${sql(rows, names)} ON CONFLICT DO NOTHING`
            : sql`INSERT INTO ${sql(config.table)} ${sql(rows, names)}`;
          const cancel = () => q.cancel();
          c.signal.addEventListener("abort", cancel, { once: true });
          try {
            await q;
          } catch (e) {
            if (c.signal.aborted) throw e;
            throw pgDeliveryError(e, config.table);
          } finally {
            c.signal.removeEventListener("abort", cancel);
          }
        },
        async close() {
          await client?.end({ timeout: 1 });
        },
      };
    },
  });
}
