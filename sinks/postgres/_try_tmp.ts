import postgres from "postgres";
import { PgServer } from "./_postgres.ts";
const t0 = Date.now();
await using pg = await PgServer.start();
console.log("started in", Date.now() - t0);
const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
console.log(await sql`select version()`);
await pg.stop();
console.log("stopped", Date.now() - t0);
try {
  await sql`select 1`;
} catch (e) {
  console.log("down:", (e as any).code, (e as Error).message);
}
await pg.resume();
console.log(await sql`select 2 as x`);
await sql.end();
