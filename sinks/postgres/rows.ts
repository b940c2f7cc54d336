/**
 * @module
 * Record fields as INSERT parameters, and the DDL `createTable` runs. Parameters go to
 * PostgreSQL untyped (postgres.js sends strings and numbers as type 0), so the server
 * converts each to its column's type: the same `value` fits a double precision, numeric,
 * boolean, text or jsonb column, and a value the column cannot take fails with SQLSTATE
 * class 22 (dead-lettered), not with a client-side guess.
 */

import { type Batch, QUALITY_NAMES, StorageKind } from "../../engine/plugin.ts";
import { RECORD_FIELDS, type RecordField } from "./spec.ts";

/** A parameter value. */
export type Param = string | number | boolean | null;

const iso = (ms: number) => new Date(ms).toISOString();

const json = (v: unknown) => JSON.stringify(v, (_k, x) => typeof x === "bigint" ? x.toString() : x);

function value(b: Batch, i: number): Param {
  switch (b.kind[i]) {
    case StorageKind.number: {
      const v = b.num[i]!;
      return Number.isFinite(v) ? v : v > 0 ? "Infinity" : v < 0 ? "-Infinity" : "NaN";
    }
    case StorageKind.boolean:
      return b.num[i] !== 0 ? 1 : 0;
    case StorageKind.null:
      return null;
    case StorageKind.string:
      return b.obj[i] as string;
    case StorageKind.bigint:
      return String(b.obj[i]);
    default:
      return json(b.obj[i]);
  }
}

function valueText(b: Batch, i: number): string | null {
  const k = b.kind[i];
  if (k === StorageKind.null) return null;
  if (k === StorageKind.boolean) return b.num[i] !== 0 ? "true" : "false";
  if (k === StorageKind.json) return json(b.obj[i]);
  return String(b.value(i));
}

/** Reads one record field of record `i`. */
export const FIELD_READERS: Record<
  RecordField,
  (b: Batch, i: number, historical: boolean) => Param
> = {
  device: (b, i) => b.device[i]!,
  tag: (b, i) => b.tag[i]!,
  value,
  valueText,
  quality: (b, i) => QUALITY_NAMES[b.quality[i]!]!,
  reason: (b, i) => b.reason[i] ?? null,
  sourceTs: (b, i) => iso(b.sourceTs[i]!),
  gatewayTs: (b, i) => iso(b.gatewayTs[i]!),
  sourceTsMs: (b, i) => Math.round(b.sourceTs[i]!),
  gatewayTsMs: (b, i) => Math.round(b.gatewayTs[i]!),
  seq: (b, i) => b.seq[i]!,
  historical: (_b, _i, h) => h,
};

/** The mapping as [field, column] pairs, in a fixed order. */
export function columnPairs(
  columns: Partial<Record<RecordField, string>>,
): [RecordField, string][] {
  return (Object.keys(RECORD_FIELDS) as RecordField[])
    .filter((f) => columns[f] !== undefined)
    .map((f) => [f, columns[f]!]);
}

/** Rows of a batch as objects keyed by column. */
export function toRows(
  b: Batch,
  pairs: readonly [RecordField, string][],
  historical: boolean,
): Record<string, Param>[] {
  const rows = new Array<Record<string, Param>>(b.length);
  for (let i = 0; i < b.length; i++) {
    const r: Record<string, Param> = {};
    for (const [f, c] of pairs) r[c] = FIELD_READERS[f](b, i, historical);
    rows[i] = r;
  }
  return rows;
}

const quoteIdent = (s: string) => s.split(".").map((p) => `"${p.replace(/"/g, '""')}"`).join(".");

/** `CREATE TABLE IF NOT EXISTS` for the mapping. */
export function createTableSql(table: string, pairs: readonly [RecordField, string][]): string {
  const cols = pairs.map(([f, c]) => `  ${quoteIdent(c)} ${RECORD_FIELDS[f].sql}`);
  return `CREATE TABLE IF NOT EXISTS ${quoteIdent(table)} (\n${cols.join(",\n")}\n)`;
}
