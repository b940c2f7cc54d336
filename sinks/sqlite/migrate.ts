/**
 * @module
 * Opening a history database of any schema version. A new file gets schema version 2. A
 * version-1 file (one row per record in table `history`) is migrated in place, in one
 * transaction: its rows are read in insertion order, written as blocks, and the old table is
 * dropped; a crash during the migration leaves the file as it was, and the next open starts
 * over. A file from a newer Bifrost is refused with an error naming the file.
 */

import type { DatabaseSync } from "node:sqlite";
import { Batch, BifrostError, errorMessage, StorageKind, type Value } from "../../engine/plugin.ts";
import { hasTable, SCHEMA_VERSION, schemaVersion } from "./schema.ts";

/** Records per batch while migrating. */
const STEP = 10_000;

interface V1Row {
  device: string;
  tag: string;
  kind: number;
  value: number | null;
  value_text: string | null;
  quality: number;
  reason: string | null;
  source_ts: number;
  gateway_ts: number;
  seq: number;
}

/**
 * Brings `db` to {@linkcode SCHEMA_VERSION}: `create()` makes the current tables (idempotent)
 * and prepares statements, `append()` writes a batch as blocks inside the open transaction.
 */
export function migrate(
  db: DatabaseSync,
  path: string,
  create: () => void,
  append: (b: Batch) => void,
): void {
  const version = schemaVersion(db);
  if (version > SCHEMA_VERSION) {
    throw new BifrostError(
      "SINK_FAILED",
      `Cannot open history "${path}": its schema version is ${version} but this Bifrost reads ` +
        `up to ${SCHEMA_VERSION}; upgrade Bifrost or point the sqlite sink at another file`,
    );
  }
  if (version === SCHEMA_VERSION) return create();
  const v1 = hasTable(db, "history");
  try {
    db.exec("BEGIN IMMEDIATE");
    create();
    if (v1) copyV1(db, append);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    db.exec("COMMIT");
  } catch (e) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw new BifrostError(
      "SINK_FAILED",
      `Cannot migrate history "${path}" from schema version 1 to ${SCHEMA_VERSION}: ` +
        `${errorMessage(e)}; the file is unchanged (free disk space, or move it aside to start ` +
        `a new history)`,
      { cause: e },
    );
  }
}

function copyV1(db: DatabaseSync, append: (b: Batch) => void): void {
  const rows = db.prepare(
    "SELECT device, tag, kind, value, value_text, quality, reason, source_ts, gateway_ts, seq " +
      "FROM history ORDER BY id",
  ).iterate() as Iterable<V1Row>;
  let b = new Batch(STEP);
  for (const r of rows) {
    b.add(
      r.device,
      r.tag,
      v1Value(r),
      (r.quality <= 2 ? r.quality : 2) as 0,
      r.reason ?? undefined,
      r.source_ts,
      r.gateway_ts,
      r.seq,
    );
    if (b.length === STEP) append(b), b = new Batch(STEP);
  }
  if (b.length) append(b);
  db.exec("DROP TABLE history");
}

function v1Value(r: V1Row): Value {
  switch (r.kind) {
    case StorageKind.number:
      return r.value ?? NaN;
    case StorageKind.boolean:
      return r.value !== 0;
    case StorageKind.string:
      return r.value_text ?? "";
    case StorageKind.bigint:
      return BigInt(r.value_text ?? "0");
    case StorageKind.json:
      return JSON.parse(
        r.value_text ?? "null",
        (_k, v) =>
          v !== null && typeof v === "object" && !Array.isArray(v) &&
            Object.keys(v).length === 1 && typeof v.$bigint === "string"
            ? BigInt(v.$bigint)
            : v,
      );
    default:
      return null;
  }
}
