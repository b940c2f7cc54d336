/**
 * @module
 * Layers 1 and 2 of flow loading for one file: read, decode, parse the YAML, substitute
 * `${ENV}`, validate against the JSON Schema, and cut the result into entities. Each file
 * stands alone here, so {@linkcode FlowFileCache} can keep its result: a hot reload of a
 * 100,000-tag flow set re-parses the one file that changed instead of every file (layer 3,
 * the cross-file semantics in `semantic.ts`, always reruns over all entities).
 *
 * A cached result is reused while the file's modification time and size are unchanged (and
 * the file was not modified in the last 2 s), or when the bytes hash the same (a `touch`, a checkout rewriting a file
 * identically). The environment and the registries are part of the key: a different one
 * clears the cache.
 */

import { errorMessage } from "../errors.ts";
import { type FlowEnv, substituteEnv } from "./env.ts";
import { type ConfigIssue, fromPointer } from "./positions.ts";
import { decodeFlowFile, parseFlowText, toData } from "./parse.ts";
import type { SchemaSources } from "./schema.ts";
import { type Entity, KINDS } from "./semantic.ts";
import { isRecord } from "./tag.ts";
import { validateFlowSchema } from "./validate.ts";

/** What one flow file contributes to a load. */
export interface FileResult {
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
  /** Values substituted from secret variables. */
  secrets: string[];
  entities: Entity[];
}

/** An issue about a whole file, at the line and column of byte `offset`. */
export function fileIssue(
  file: string,
  message: string,
  bytes?: Uint8Array,
  offset = 0,
  severity: "error" | "warning" = "error",
): ConfigIssue {
  let line = 1;
  let start = 0;
  for (let i = 0; bytes && i < offset; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      start = i + 1;
    }
  }
  return { file, line, column: offset - start + 1, path: "", message, severity };
}

/** Parses and schema-checks the bytes of one flow file. */
export function checkFlowFile(
  file: string,
  bytes: Uint8Array,
  sources: SchemaSources,
  envVars: FlowEnv,
): FileResult {
  const r: FileResult = { errors: [], warnings: [], secrets: [], entities: [] };
  const decoded = decodeFlowFile(bytes);
  if (decoded.error !== undefined) {
    r.errors.push(fileIssue(file, decoded.error, bytes, decoded.offset));
    return r;
  }
  const parsed = parseFlowText(file, decoded.text);
  const src = parsed.src;
  r.errors.push(...parsed.errors);
  r.warnings.push(...parsed.warnings);
  let data: unknown;
  const bad = new Set<string>();
  const section = (path: string) => fromPointer(path).slice(0, 2).map((s) => "/" + s).join("");
  if (parsed.errors.length > 0) {
    data = toData(src).data;
    for (const k of KINDS) bad.add(`/${k}`);
  } else {
    const env = substituteEnv(src, envVars);
    r.secrets.push(...env.secrets);
    r.errors.push(...env.issues);
    const envPaths = new Set(env.issues.map((i) => i.path));
    env.issues.forEach((i) => bad.add(section(i.path)));
    const resolved = toData(src);
    data = resolved.data;
    if (resolved.error) r.errors.push(resolved.error);
    else {
      for (const i of validateFlowSchema(src, data, sources, env.substituted)) {
        if (envPaths.has(i.path)) continue;
        r.errors.push(i);
        bad.add(section(i.path));
      }
    }
  }
  if (!isRecord(data)) return r;
  for (const kind of KINDS) {
    const entries = data[kind];
    if (!isRecord(entries)) continue;
    for (const [name, value] of Object.entries(entries)) {
      const valid = isRecord(value) && !bad.has(`/${kind}`) && !bad.has(`/${kind}/${name}`);
      r.entities.push({ kind, name, src, data: isRecord(value) ? value : {}, valid });
    }
  }
  return r;
}

/** FNV-1a over the bytes: enough to tell an identical rewrite from an edit. */
function hashBytes(bytes: Uint8Array): number {
  let h = 2166136261;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 16777619);
  return h >>> 0;
}

/** How old a file's mtime must be for stat alone to prove the file unchanged. */
const RACY_MS = 2000;

function sameEnv(a: FlowEnv, b: FlowEnv | undefined): boolean {
  if (a === b) return true;
  if (b === undefined) return false;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

interface Entry {
  mtime: number | undefined;
  size: number;
  hash: number;
  result: FileResult;
}

/** Figures of a {@linkcode FlowFileCache}, for tests and benchmarks. */
export interface FlowFileCacheStats {
  /** Files parsed (not found in the cache, or changed). */
  parsed: number;
  /** Files whose result came from the cache. */
  reused: number;
}

/** Each flow file's {@linkcode FileResult}, keyed by path and checked by mtime, size and hash. */
export class FlowFileCache {
  #entries = new Map<string, Entry>();
  #sources: SchemaSources | undefined;
  #env: FlowEnv | undefined;
  readonly stats: FlowFileCacheStats = { parsed: 0, reused: 0 };

  /** The result of `file`, parsed again only if it changed since the last call. */
  async load(file: string, sources: SchemaSources, env: FlowEnv): Promise<FileResult> {
    if (sources !== this.#sources || !sameEnv(env, this.#env)) {
      this.#entries.clear();
      this.#sources = sources;
      this.#env = env;
    }
    const old = this.#entries.get(file);
    let bytes: Uint8Array;
    let mtime: number | undefined;
    try {
      const st = await Deno.stat(file);
      mtime = st.mtime?.getTime();
      // Like git's "racy clean" rule: a file modified within the last seconds may change
      // again within the same timestamp tick, so only older files are trusted by stat.
      const settled = mtime !== undefined && mtime < Date.now() - RACY_MS;
      if (old && settled && old.mtime === mtime && old.size === st.size) {
        this.stats.reused++;
        return old.result;
      }
      bytes = await Deno.readFile(file);
    } catch (err) {
      this.#entries.delete(file);
      const errors = [fileIssue(file, `cannot read the file: ${errorMessage(err)}`)];
      return { errors, warnings: [], secrets: [], entities: [] };
    }
    const hash = hashBytes(bytes);
    if (old && old.hash === hash && old.size === bytes.length) {
      this.stats.reused++;
      this.#entries.set(file, { ...old, mtime });
      return old.result;
    }
    this.stats.parsed++;
    const result = checkFlowFile(file, bytes, sources, env);
    this.#entries.set(file, { mtime, size: bytes.length, hash, result });
    return result;
  }

  /** Forgets every file not in `files` (deleted or renamed away). */
  keepOnly(files: readonly string[]): void {
    const keep = new Set(files);
    for (const f of this.#entries.keys()) if (!keep.has(f)) this.#entries.delete(f);
  }
}
