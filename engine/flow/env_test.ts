import assert from "node:assert/strict";
import { LineCounter, parseDocument } from "yaml";
import { substituteEnv } from "./env.ts";
import { formatIssue, type YamlSource } from "./positions.ts";

function source(text: string): YamlSource {
  const lineCounter = new LineCounter();
  return { file: "flows/a.yaml", text, doc: parseDocument(text, { lineCounter }), lineCounter };
}

Deno.test("substituteEnv() re-types a plain scalar that is exactly one reference", () => {
  const src = source('port: ${PORT}\nquoted: "${PORT}"\nflag: ${FLAG}\nname: ${NAME}\n');
  const r = substituteEnv(src, { PORT: "5020", FLAG: "true", NAME: "plc-1" });
  assert.deepEqual(src.doc.toJS(), { port: 5020, quoted: "5020", flag: true, name: "plc-1" });
  assert.deepEqual(r.issues, []);
});

Deno.test("substituteEnv() fills references inside strings and uses defaults", () => {
  const src = source(
    "host: ${HOST:-127.0.0.1}\nurl: mqtt://${HOST}:${PORT:-1883}/x\nlit: $${HOST}\n",
  );
  const r = substituteEnv(src, { HOST: "broker" });
  assert.deepEqual(src.doc.toJS(), { host: "broker", url: "mqtt://broker:1883/x", lit: "${HOST}" });
  assert.deepEqual(r.secrets, [], "a host is not a secret");
  assert.equal(r.substituted.get("/url"), "mqtt://${HOST}:${PORT:-1883}/x");
});

Deno.test("substituteEnv() uses the default when the variable is empty", () => {
  const src = source("a: ${A:-x}\nb: ${B}\n");
  const r = substituteEnv(src, { A: "", B: "" });
  assert.deepEqual(src.doc.toJS(), { a: "x", b: "" });
  assert.deepEqual(r.secrets, []);
});

Deno.test("substituteEnv() reports an unset variable at its position", () => {
  const src = source('devices:\n  plc:\n    host: ${PLC_HOST}\n    url: "tcp://${PLC_URL}"\n');
  const r = substituteEnv(src, {});
  assert.deepEqual(r.issues.map(formatIssue), [
    'flows/a.yaml:3:11 error: environment variable "PLC_HOST" is not set (write ${PLC_HOST:-default} to give a default)',
    'flows/a.yaml:4:17 error: environment variable "PLC_URL" is not set (write ${PLC_URL:-default} to give a default)',
  ]);
  assert.equal(r.issues[0]!.path, "/devices/plc/host");
});

Deno.test("substituteEnv() rejects a malformed reference", () => {
  const r = substituteEnv(source("a: ${1BAD}\n"), {});
  assert.equal(r.issues.length, 1);
  assert.match(r.issues[0]!.message, /malformed environment reference/);
});

Deno.test("substituteEnv() leaves keys and plain text alone", () => {
  const src = source("${KEY}: 1\ntext: costs $5\n");
  const r = substituteEnv(src, { KEY: "k" });
  assert.deepEqual(src.doc.toJS(), { "${KEY}": 1, text: "costs $5" });
  assert.deepEqual(r.secrets, []);
});

Deno.test("substituteEnv() returns as secrets only the values of secret variables", () => {
  const src = source(
    [
      "port: ${PORT}",
      "pass: ${MQTT_PASSWORD}",
      "token: ${api_token}",
      "marked: ${secret:SITE_PIN}",
      "marked_default: ${secret:SITE_CODE:-fallback}",
      "public: ${public:KEYPAD_ID}",
      "url: mqtt://user:${BROKER_PASS}@${HOST}:${PORT}",
    ].join("\n") + "\n",
  );
  const r = substituteEnv(src, {
    PORT: "1883",
    MQTT_PASSWORD: "p@ss",
    api_token: "tok-123",
    SITE_PIN: "4711",
    KEYPAD_ID: "kp-9",
    BROKER_PASS: "b\\r0ker",
    HOST: "broker",
  });
  assert.deepEqual(r.issues, []);
  assert.deepEqual(src.doc.toJS(), {
    port: 1883,
    pass: "p@ss",
    token: "tok-123",
    marked: 4711,
    marked_default: "fallback",
    public: "kp-9",
    url: "mqtt://user:b\\r0ker@broker:1883",
  });
  assert.deepEqual(r.secrets, ["p@ss", "tok-123", "4711", "b\\r0ker"]);
  assert.equal(r.substituted.get("/marked"), "${secret:SITE_PIN}");
});

Deno.test("password variables written the short ways are secrets too; names that merely contain PW are not", () => {
  const src = source("a: ${MQTT_PW}\nb: ${DB_PWD}\nc: ${PW}\nd: ${PWM_CHANNEL}\ne: ${UPWARD}\n");
  const r = substituteEnv(src, {
    MQTT_PW: "s3cret-a",
    DB_PWD: "s3cret-b",
    PW: "s3cret-c",
    PWM_CHANNEL: "7",
    UPWARD: "north",
  });
  assert.deepEqual(r.issues, []);
  assert.deepEqual(r.secrets, ["s3cret-a", "s3cret-b", "s3cret-c"]);
});
