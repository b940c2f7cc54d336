/**
 * @module
 * The `postgres` sink against a real PostgreSQL (Debian's server, in a temp cluster): a
 * streamed record that violates a CHECK constraint is dead-lettered with PostgreSQL's
 * message while every other lands; PostgreSQL stopped mid-stream holds records in the
 * queue and they arrive after the restart with no gap by seq (duplicates counted).
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { Batch, Quality, systemClock } from "../../engine/plugin.ts";
import { PgServer, postgresMissing } from "./_postgres.ts";
import { createPostgresSink, pgDeliveryError, type PostgresConfig } from "./sink.ts";

const skip = postgresMissing();
if (skip) console.log(`SKIPPED postgres_test.ts: ${skip}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await sleep(5);
  }
}

function records(from: number, n: number, value = (s: number) => s * 0.5): Batch {
  const b = new Batch(n);
  const now = Date.now();
  for (let s = from; s < from + n; s++) {
    b.add("kiln", `t${s % 5}`, value(s), Quality.good, undefined, now, now, s);
  }
  return b;
}

/** Seqs once each in order, and how many extra copies there were. */
function distinct(seqs: number[]): { seqs: number[]; dups: number } {
  const set = new Set(seqs);
  return { seqs: [...set].sort((a, b) => a - b), dups: seqs.length - set.size };
}

async function open(config: Omit<PostgresConfig, "queue">, dir: string) {
  const sink = createPostgresSink({
    retryMin: "20ms",
    retryMax: "200ms",
    breakerCoolDown: "300ms",
    ...config,
    queue: { dir },
  }, { name: "history", clock: systemClock });
  await sink.open();
  return sink;
}

Deno.test("pgDeliveryError dead-letters classes 22 and 23 and retries the rest", () => {
  assert.equal(pgDeliveryError({ code: "23514", message: "check" }, "t").permanent, true);
  assert.equal(pgDeliveryError({ code: "22P02", message: "bad input" }, "t").permanent, true);
  assert.equal(pgDeliveryError({ code: "57P01", message: "shutdown" }, "t").permanent, false);
  assert.equal(pgDeliveryError({ code: "42P01", message: "no table" }, "t").permanent, false);
  assert.equal(pgDeliveryError({ code: "ECONNREFUSED", message: "refused" }, "t").permanent, false);
});

Deno.test({
  name: "postgres sink against a real PostgreSQL",
  ignore: skip !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await using pg = await PgServer.start();
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    const dir = await Deno.makeTempDir({ prefix: "bifrost_pg_q_" });
    try {
      await t.step(
        "a CHECK violation is dead-lettered with PostgreSQL's message; the rest lands",
        async () => {
          await sql`CREATE TABLE readings (
          time timestamptz NOT NULL, device text NOT NULL, tag text NOT NULL,
          value double precision CHECK (value >= 0), quality text, seq bigint NOT NULL)`;
          const sink = await open({ url: pg.url, table: "readings", batchSize: 250 }, dir);
          try {
            for (let w = 0; w < 20; w++) {
              await sink.write(records(w * 100, 100, (s) => (s === 1234 ? -1 : s * 0.5)));
              await sleep(2);
            }
            await until(() => sink.stats().depth === 0, "the queue to drain");
            const s = sink.stats();
            assert.equal(s.deadLettered, 1);
            assert.equal(s.failed, 0);
            const [d] = sink.deadLetters!.recent();
            assert.equal(d!.record.seq, 1234);
            assert.equal(d!.code, "pg 23514");
            assert.match(d!.reason, /violates check constraint "readings_value_check"/);
          } finally {
            await sink.close();
          }
          const rows = await sql<{ seq: string; value: number; tag: string }[]>`
          SELECT seq, value, tag FROM readings ORDER BY seq`;
          const seqs = rows.map((r) => Number(r.seq));
          assert.deepEqual(
            seqs,
            Array.from({ length: 2000 }, (_, i) => i).filter((s) => s !== 1234),
          );
          assert.deepEqual(rows[3], { seq: "3", value: 1.5, tag: "t3" });
        },
      );

      await t.step(
        "records wait while PostgreSQL is down and arrive after the restart",
        async () => {
          const sink = await open({
            url: pg.url,
            table: "plant.events",
            createTable: true,
            timeout: "2s",
            columns: {
              sourceTsMs: "ts_ms",
              device: "device",
              tag: "tag",
              value: "v",
              seq: "seq",
              historical: "replayed",
            },
          }, dir);
          await sql`CREATE SCHEMA plant`;
          let seq = 0;
          const stream = async (ms: number) => {
            const end = Date.now() + ms;
            while (Date.now() < end) {
              await sink.write(records(seq, 20));
              seq += 20;
              await sleep(10);
            }
          };
          try {
            await stream(300);
            await until(() => sink.stats().sent > 0, "first rows");
            await pg.stop();
            await stream(500);
            await until(() => sink.stats().failed >= 2, "failed inserts");
            assert.ok(sink.stats().depth > 0, "records wait in the queue");
            await pg.resume();
            await stream(300);
            await until(() => sink.stats().depth === 0, "the queue to drain", 15_000);
            assert.equal(sink.stats().deadLettered, 0);
          } finally {
            await sink.close();
          }
          const rows = await sql<{ seq: string; replayed: boolean; ts_ms: string }[]>`
          SELECT seq, replayed, ts_ms FROM plant.events`;
          const { seqs, dups } = distinct(rows.map((r) => Number(r.seq)));
          assert.deepEqual(seqs, Array.from({ length: seq }, (_, i) => i), "no gap");
          console.log(`  ${seq} records, ${dups} duplicates`);
          assert.ok(rows.some((r) => r.replayed), "records from the outage are marked replayed");
          assert.ok(Number(rows[0]!.ts_ms) > 1_600_000_000_000);
        },
      );
    } finally {
      await sql.end({ timeout: 1 });
      await Deno.remove(dir, { recursive: true });
    }
  },
});
