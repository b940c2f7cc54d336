/**
 * @module
 * The host's validation of the messages a trigger's process sends (`response`, `call`):
 * untrusted input, described and dropped, never thrown.
 */

import { assertEquals, assertMatch } from "../../tests/_assert.ts";
import { checkMessage } from "./check.ts";

Deno.test("checkMessage() keeps a well-formed response and its emitted records", () => {
  const m = {
    t: "response",
    id: 3,
    status: 201,
    headers: { "x-a": "1" },
    body: { ok: true },
    emit: [{ device: "d", tag: "t", value: 1.5, quality: "uncertain", sourceTs: 5 }],
  };
  assertEquals(checkMessage(m), m);
});

Deno.test("checkMessage() refuses a response with a bad status, an injected header or a bad record", () => {
  const base = { t: "response", id: 1, status: 200, headers: {}, body: null };
  assertMatch(checkMessage({ ...base, status: 99 }) as string, /status 99/);
  assertMatch(checkMessage({ ...base, status: 1.5 }) as string, /status 1.5/);
  assertMatch(
    checkMessage({ ...base, headers: { "x-a": "1\r\nSet-Cookie: x" } }) as string,
    /header "x-a"/,
  );
  assertMatch(checkMessage({ ...base, headers: { "bad name": "1" } }) as string, /header/);
  assertMatch(checkMessage({ ...base, emit: {} }) as string, /emitted records an object/);
  assertMatch(
    checkMessage({ ...base, emit: [{ device: "d", tag: "t", value: NaN }] }) as string,
    /emitted record 0 has value NaN/,
  );
  assertMatch(
    checkMessage({ ...base, emit: [{ device: "d", tag: "t", value: 1, extra: 1 }] }) as string,
    /unknown field "extra"/,
  );
  assertMatch(
    checkMessage({ ...base, emit: [{ device: "", tag: "t", value: 1 }] }) as string,
    /has device ""/,
  );
});

Deno.test("checkMessage() keeps a read or write call and refuses an unknown operation", () => {
  assertEquals(checkMessage({ t: "call", cid: 2, op: "read", device: "d", tag: "t", x: 1 }), {
    t: "call",
    cid: 2,
    op: "read",
    device: "d",
    tag: "t",
  });
  assertEquals(
    checkMessage({ t: "call", cid: 2, op: "write", device: "d", tag: "t", value: 4 }),
    { t: "call", cid: 2, op: "write", device: "d", tag: "t", value: 4 },
  );
  assertMatch(
    checkMessage({ t: "call", cid: 2, op: "delete", device: "d", tag: "t" }) as string,
    /op "delete"/,
  );
  assertMatch(
    checkMessage({ t: "call", cid: 0, op: "read", device: "d", tag: "t" }) as string,
    /cid 0/,
  );
});
