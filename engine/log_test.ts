/**
 * @module
 * The logger redacts secrets by value, before encoding, in every form they can take, and
 * nothing else.
 */

import assert from "node:assert/strict";
import { LineCounter, parseDocument } from "yaml";
import { substituteEnv } from "./flow/env.ts";
import { createLogger, type LoggerOptions } from "./log.ts";
import { createRedactor } from "./redact.ts";

function collect(secrets: string[], options: LoggerOptions = {}) {
  const lines: string[] = [];
  const log = createLogger({
    level: "debug",
    json: true,
    write: (l) => lines.push(l),
    redact: () => secrets,
    ...options,
  });
  return { log, lines };
}

Deno.test("the logger redacts a secret with quotes and backslashes in msg and fields", () => {
  const secret = 'zq"9\\k7';
  const { log, lines } = collect([secret]);
  log.info(`connecting with ${secret}`, {
    password: secret,
    nested: { list: [`x${secret}y`], err: new Error(`bad password ${secret}`) },
    quoted: JSON.stringify({ password: secret }),
  });
  assert.equal(lines.length, 1);
  const line = lines[0]!;
  assert.ok(!line.includes("zq") && !line.includes("k7"), line);
  const parsed = JSON.parse(line);
  assert.equal(parsed.msg, "connecting with ***");
  assert.equal(parsed.password, "***");
  assert.deepEqual(parsed.nested, { list: ["x***y"], err: "bad password ***" });
  assert.equal(parsed.quoted, '{"password":"***"}');
});

Deno.test("the logger redacts a secret percent-encoded in a URL, in any case", () => {
  const { log, lines } = collect(["p@ss/w0rd"]);
  log.warn("mqtt://user:p%40ss%2Fw0rd@broker:1883 refused");
  log.warn("lower hex", { url: "mqtt://user:p%40ss%2fw0rd@broker:1883" });
  log.warn("URL class leaves some", { url: "mqtt://user:p%40ss/w0rd@broker" });
  log.error("AUTH FAILED FOR P@SS/W0RD");
  for (const l of lines) assert.ok(!/p(@|%40)ss/i.test(l) && !/w0rd/i.test(l), l);
  assert.match(lines[0]!, /mqtt:\/\/user:\*\*\*@broker:1883 refused/);
  assert.match(lines[3]!, /AUTH FAILED FOR \*\*\*/);
});

Deno.test("the logger redacts a secret inside the base64 of basic auth", () => {
  for (const user of ["u", "us", "usr", "operator"]) {
    const { log, lines } = collect(["s3cr3t-pass"]);
    const header = `Basic ${btoa(`${user}:s3cr3t-pass`)}`;
    log.info("request", { authorization: header });
    const value = JSON.parse(lines[0]!).authorization as string;
    assert.ok(value.includes("***"), value);
    // What is left carries the user and at most a few bits of the password's first and last
    // bytes, at any alignment.
    const [before, after] = value.replace("Basic ", "").split("***") as [string, string];
    assert.ok(before.length <= 4 * Math.ceil((user.length + 2) / 3), `${user}: ${value}`);
    assert.ok(after.length <= 4, `${user}: ${value}`);
  }
});

Deno.test("the logger leaves values of variables that are not secret alone", () => {
  const text = "url: mqtt://${BROKER}:${PORT}\npassword: ${MQTT_PASSWORD}\npin: ${secret:PIN}\n";
  const lineCounter = new LineCounter();
  const src = { file: "f.yaml", text, doc: parseDocument(text, { lineCounter }), lineCounter };
  const env = substituteEnv(src, {
    BROKER: "broker",
    PORT: "1883",
    MQTT_PASSWORD: "hunter2!",
    PIN: "4711",
  });
  const { log, lines } = collect(env.secrets);
  log.info("connected to broker:1883", { port: 1883, ...src.doc.toJS() });
  assert.match(lines[0]!, /"msg":"connected to broker:1883"/);
  assert.match(lines[0]!, /"port":1883/);
  assert.match(lines[0]!, /"url":"mqtt:\/\/broker:1883"/);
  assert.match(lines[0]!, /"password":"\*\*\*","pin":"\*\*\*"/);
});

Deno.test("the text logger redacts fields too, and child loggers keep redacting", () => {
  const { log, lines } = collect(["t0k3n-abc"], { json: false });
  log.child({ token: "t0k3n-abc" }).info('sent "t0k3n-abc"', { header: "Bearer T0K3N-ABC" });
  assert.ok(!/t0k3n/i.test(lines[0]!), lines[0]!);
  assert.match(lines[0]!, /sent "\*\*\*"/);
});

Deno.test("createRedactor() ignores secrets too short to redact safely", () => {
  const r = createRedactor(["ab", "long-secret"]);
  assert.equal(r.text("ab long-secret"), "ab ***");
  assert.equal(createRedactor([]).text("anything"), "anything");
});
