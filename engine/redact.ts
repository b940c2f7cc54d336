/**
 * @module
 * Redaction of secret values in every form a log line can carry them. A secret from
 * `${secret:NAME}` (or a variable whose name says it is one, see `engine/flow/env.ts`) can
 * reach a log as written, JSON-escaped (`p\"ss` inside a quoted message), percent-encoded
 * in a URL (`p%40ss`, `%2f` or `%2F`), in another case (`P@SS` in an upper-cased error),
 * or inside the base64 of an HTTP basic `Authorization` header (`user:pass`). Every form is
 * matched by one regular expression per kind, built once per list of secrets: each
 * character of a secret matches itself, its JSON escape or its percent-encoding, letters in
 * either case; base64 is matched case-sensitively at the three byte alignments a secret can
 * have inside a longer encoded string.
 *
 * Redaction runs on values (message, field values and keys, recursively) before they are
 * encoded into a line, so escaping cannot hide a secret from it, and it only touches values
 * that came from secret variables: a port substituted from `${PORT}` stays readable.
 */

/** What a secret is replaced with. */
export const REDACTED = "***";

/** Secrets shorter than this are not redacted: they would blank out ordinary text. */
export const MIN_SECRET_LENGTH = 3;

const encoder = new TextEncoder();

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

/** The alternatives one character of a secret may appear as. */
function charForms(c: string): string {
  const forms = new Set<string>([escapeRegExp(c)]);
  const json = JSON.stringify(c).slice(1, -1);
  if (json !== c) forms.add(escapeRegExp(json));
  if (!/^[A-Za-z0-9_.~-]$/.test(c)) {
    forms.add([...encoder.encode(c)].map((b) => "%" + b.toString(16).padStart(2, "0")).join(""));
  }
  if (c === " ") forms.add("\\+");
  return forms.size === 1 ? [...forms][0]! : `(?:${[...forms].join("|")})`;
}

function base64(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/**
 * The base64 characters that depend only on the secret's bytes, for each of the three
 * offsets (mod 3) at which it can start inside a longer encoded value (`user:` + secret).
 */
function base64Cores(secret: string): string[] {
  const raw = encoder.encode(secret);
  const out: string[] = [];
  for (const k of [0, 1, 2]) {
    const padded = new Uint8Array(k + raw.length);
    padded.set(raw, k);
    const text = base64(padded);
    const core = text.slice([0, 2, 3][k], 4 * Math.floor(padded.length / 3));
    if (core.length >= 4) out.push(core);
  }
  return out;
}

/** A compiled redactor for one list of secrets. */
export interface Redactor {
  /** `text` with every form of every secret replaced by {@linkcode REDACTED}. */
  text(text: string): string;
  /** A copy of `value` as JSON would see it (errors as their message), secrets redacted. */
  value(value: unknown): unknown;
}

/** The redactor that redacts nothing. */
export const noRedaction: Redactor = { text: (t) => t, value: (v) => v };

/**
 * Compiles a redactor for `secrets` (values shorter than {@linkcode MIN_SECRET_LENGTH} are
 * ignored).
 *
 * @example
 * ```ts
 * const r = createRedactor(["p@ss"]);
 * r.text("mqtt://user:p%40ss@host"); // "mqtt://user:***@host"
 * ```
 */
export function createRedactor(secrets: readonly string[]): Redactor {
  const list = [...new Set(secrets.filter((s) => s.length >= MIN_SECRET_LENGTH))]
    // Longest first, so a secret that contains another is replaced whole.
    .sort((a, b) => b.length - a.length);
  if (list.length === 0) return noRedaction;
  const textForms = new RegExp(list.map((s) => [...s].map(charForms).join("")).join("|"), "gi");
  const b64 = list.flatMap(base64Cores).sort((a, b) => b.length - a.length);
  const b64Forms = b64.length ? new RegExp(b64.map(escapeRegExp).join("|"), "g") : undefined;
  const text = (t: string): string => {
    let out = t.replace(textForms, REDACTED);
    if (b64Forms) out = out.replace(b64Forms, REDACTED);
    return out;
  };
  const value = (v: unknown, depth = 0): unknown => {
    if (typeof v === "string") return text(v);
    if (typeof v === "number" || typeof v === "bigint") {
      // A secret retyped by substitution (`pin: ${secret:PIN}` is a number) is still one.
      const t = String(v);
      const r = text(t);
      return r === t ? v : r;
    }
    if (depth > 16 || v === null || typeof v !== "object") return v;
    if (v instanceof Error) return text(v.message);
    if (Array.isArray(v)) return v.map((x) => value(x, depth + 1));
    // What JSON.stringify would write: toJSON() when there is one, else own fields.
    const toJSON = (v as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") return value(toJSON.call(v), depth + 1);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[text(k)] = value(x, depth + 1);
    return out;
  };
  return { text, value: (v) => value(v) };
}
