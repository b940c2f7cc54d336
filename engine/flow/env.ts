/**
 * @module
 * `${NAME}` and `${NAME:-default}` substitution in the scalar values of a flow document,
 * done on the YAML tree (so positions survive) before schema validation. A plain scalar that
 * is exactly one reference takes the type of its value (`port: ${PORT}` becomes a number);
 * anything else stays a string. `$${` writes a literal `${`. Error messages show the
 * reference (`${PORT}`), never the value.
 *
 * A value taken from a secret variable is returned so the logger can redact it. A variable
 * is secret when its name says so ({@linkcode SECRET_NAME}: PASS, SECRET, TOKEN, KEY, CRED,
 * AUTH, PRIVATE, CERT, PWD, or PW as a `_`-separated word, in any case) or when the reference says so: `${secret:NAME}`.
 * `${public:NAME}` marks one public whatever its name (`${public:KEYBOARD_ID}`). Other
 * values (hosts, ports) are not redacted: redacting `1883` would blank every 1883 in the
 * logs. Defaults are written in the file, so they are never secrets.
 */

import { isMap, isPair, isScalar, isSeq, parse, Scalar } from "yaml";
import {
  type ConfigIssue,
  type DocPath,
  issueAtOffset,
  toPointer,
  type YamlSource,
} from "./positions.ts";

/** The environment variables a flow may read. */
export type FlowEnv = Record<string, string | undefined>;

/** What substitution did to one document. */
export interface EnvResult {
  issues: ConfigIssue[];
  /** Values taken from secret variables (see the module comment), for the logger to redact. */
  secrets: string[];
  /** JSON pointer of every substituted scalar → its text as written (e.g. `${PORT}`). */
  substituted: Map<string, string>;
}

const REF = /\$\$\{|\$\{(?:(secret|public):)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const BAD_REF = /\$\{(?!(?:(?:secret|public):)?[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\})/;
const WHOLE_REF = /^\$\{(?:(?:secret|public):)?[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/;

/** Names of variables whose values are secret without being marked `${secret:…}`. */
export const SECRET_NAME = /PASS|SECRET|TOKEN|KEY|CRED|AUTH|PRIVATE|CERT|PWD|(?:^|_)PW(?:_|$)/i;

/** Whether a reference's value is secret: marked so, or named so and not marked public. */
export function isSecretRef(name: string, mark?: "secret" | "public"): boolean {
  return mark === "secret" || (mark !== "public" && SECRET_NAME.test(name));
}

function retype(text: string): unknown {
  if (text.trim() === "") return text;
  try {
    const v = parse(text);
    return typeof v === "number" || typeof v === "boolean" ? v : text;
  } catch {
    return text;
  }
}

function sourceOffset(src: YamlSource, node: Scalar, index: number, needle: string): number {
  const start = node.range?.[0] ?? 0;
  for (const skip of [index, index + 1]) {
    if (src.text.startsWith(needle, start + skip)) return start + skip;
  }
  return start;
}

function substituteScalar(
  src: YamlSource,
  node: Scalar,
  path: DocPath,
  env: FlowEnv,
  out: EnvResult,
): void {
  if (typeof node.value !== "string" || !node.value.includes("${")) return;
  const text = node.value;
  let failed = false;
  let fromEnv = false;
  const result = text.replace(
    REF,
    (
      all,
      mark: "secret" | "public" | undefined,
      name: string | undefined,
      dflt: string | undefined,
      i: number,
    ) => {
      if (all === "$${") return "${";
      const v = env[name!];
      if (v !== undefined && (v !== "" || dflt === undefined)) {
        fromEnv = true;
        if (v !== "" && isSecretRef(name!, mark)) out.secrets.push(v);
        return v;
      }
      if (dflt !== undefined) return dflt;
      failed = true;
      out.issues.push(issueAtOffset(
        src,
        sourceOffset(src, node, i, all),
        path,
        `environment variable "${name}" is not set (write \${${name}:-default} to give a default)`,
      ));
      return "";
    },
  );
  const bad = BAD_REF.exec(text.replace(REF, (m) => m === "$${" ? "  " : " ".repeat(m.length)));
  if (bad) {
    failed = true;
    out.issues.push(issueAtOffset(
      src,
      sourceOffset(src, node, bad.index, "${"),
      path,
      `malformed environment reference in "${text}": write \${NAME}, \${NAME:-default} or \${secret:NAME}`,
    ));
  }
  if (failed || result === text) return;
  const whole = WHOLE_REF.test(text);
  node.value = whole && node.type === Scalar.PLAIN ? retype(result) : result;
  if (fromEnv) out.substituted.set(toPointer(path), text);
}

function walk(
  src: YamlSource,
  node: unknown,
  path: (string | number)[],
  env: FlowEnv,
  out: EnvResult,
) {
  if (isScalar(node)) {
    substituteScalar(src, node, path, env, out);
  } else if (isMap(node)) {
    for (const item of node.items) {
      if (!isPair(item)) continue;
      const k = isScalar(item.key) ? String(item.key.value) : "?";
      walk(src, item.value, [...path, k], env, out);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => walk(src, item, [...path, i], env, out));
  }
}

/** Substitutes environment references in every scalar value of `src.doc`, in place. */
export function substituteEnv(src: YamlSource, env: FlowEnv): EnvResult {
  const out: EnvResult = { issues: [], secrets: [], substituted: new Map() };
  walk(src, src.doc.contents, [], env, out);
  return out;
}
