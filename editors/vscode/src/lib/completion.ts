/**
 * @module
 * Which name a flow file expects at the cursor (a device after a poll's `device:`, a poll,
 * step or device in `from:`, a tag of the poll's device in its `tags:`, any tag in a step's
 * `tags:`, a tag of the device as a key of its `simulator:` block), and the candidates from
 * the {@linkcode FlowIndex}. Read from the text around the cursor rather than the parsed
 * document, because the line being typed is usually not valid YAML yet.
 */

import type { FlowIndex, Pos, SymbolKind } from "./flow_index.ts";

/** What is expected at the cursor. */
export interface NameContext {
  kind: "device" | "source" | "tag";
  /** The device whose tags are expected; none means every device's. */
  device?: string;
  /** The YAML path of the field, e.g. `["polls", "fast", "tags"]`. */
  path: string[];
}

/** A completion candidate. */
export interface NameCandidate {
  label: string;
  kind: SymbolKind;
  detail: string;
}

const KEY_LINE = /^(\s*)(?:-\s+)?([A-Za-z0-9_.-]+)\s*:(?:\s|$)/;

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

/** The keys enclosing line `from` with an indent below `indent`, outermost first (the YAML path). */
export function enclosing(lines: string[], from: number, indent: number): string[] {
  const path: string[] = [];
  let min = indent;
  for (let i = from; i >= 0 && min > 0; i--) {
    const l = lines[i]!;
    if (l.trim() === "" || l.trimStart().startsWith("#")) continue;
    const ind = indentOf(l);
    if (ind >= min) continue;
    const m = KEY_LINE.exec(l);
    if (!m) continue;
    // A `- key:` item: the key sits after the dash.
    path.unshift(m[2]!);
    min = ind;
  }
  return path;
}

/** The name expected at `pos` in `text`, if any. */
export function nameContext(
  text: string,
  pos: Pos,
  pollDevice: (poll: string) => string | undefined,
): NameContext | undefined {
  const lines = text.split(/\r?\n/);
  const line = lines[pos.line];
  if (line === undefined) return undefined;
  const before = line.slice(0, pos.character);
  let path: string[] | undefined;
  const inline = /^(\s*)(?:-\s+)?([A-Za-z0-9_.-]+)\s*:\s*(.*)$/.exec(before);
  const item = /^(\s*)-\s*[^:#]*$/.exec(before);
  const bareKey = /^(\s+)[A-Za-z0-9_.-]*$/.exec(before);
  if (inline) {
    const value = inline[3]!;
    // Inside a `{ … }` flow map the key is not the one on the line start.
    if (value.includes("{")) return undefined;
    path = [...enclosing(lines, pos.line - 1, indentOf(line)), inline[2]!];
  } else if (item) {
    path = enclosing(lines, pos.line - 1, indentOf(line) + 1);
  } else if (bareKey) {
    path = [...enclosing(lines, pos.line - 1, bareKey[1]!.length), ""];
  }
  if (!path || path.length < 3) return undefined;
  const [section, entry, field] = path as [string, string, string];
  if (section === "polls" && field === "device" && path.length === 3) {
    return { kind: "device", path };
  }
  if (section === "polls" && field === "tags" && path.length === 3) {
    const device = pollDevice(entry) ?? deviceInText(lines, pos.line, entry);
    return { kind: "tag", path, ...(device ? { device } : {}) };
  }
  if ((section === "steps" || section === "sinks") && field === "from" && path.length === 3) {
    return { kind: "source", path };
  }
  if (section === "steps" && field === "tags" && path.length === 3) return { kind: "tag", path };
  if (section === "devices" && field === "simulator" && path.length === 4 && path[3] === "") {
    return { kind: "tag", device: entry, path };
  }
  return undefined;
}

/** A poll's `device:` read from the text when the index has not seen it yet. */
function deviceInText(lines: string[], from: number, poll: string): string | undefined {
  for (let i = from; i >= 0; i--) {
    const m = /^\s*device\s*:\s*["']?([A-Za-z0-9_.-]+)/.exec(lines[i]!);
    if (m) return m[1];
    if (new RegExp(`^\\s*${poll.replace(/[.]/g, "\\.")}\\s*:`).test(lines[i]!)) break;
  }
  for (let i = from + 1; i < lines.length; i++) {
    const m = /^\s*device\s*:\s*["']?([A-Za-z0-9_.-]+)/.exec(lines[i]!);
    if (m) return m[1];
    if (/^\s{0,2}[A-Za-z0-9_.-]+\s*:/.test(lines[i]!)) break;
  }
  return undefined;
}

/** The names fitting a context, each once, sorted. */
export function nameCandidates(index: FlowIndex, ctx: NameContext): NameCandidate[] {
  const syms = ctx.kind === "device"
    ? index.symbols("device")
    : ctx.kind === "source"
    ? index.symbols().filter((s) => s.kind === "poll" || s.kind === "step" || s.kind === "device")
    : index.symbols("tag").filter((s) => ctx.device === undefined || s.device === ctx.device);
  const seen = new Map<string, NameCandidate>();
  for (const s of syms) {
    if (seen.has(s.name)) continue;
    const where = s.kind === "tag" ? `tag of ${s.device}` : s.kind;
    seen.set(s.name, {
      label: s.name,
      kind: s.kind,
      detail: s.detail ? `${where} (${s.detail})` : where,
    });
  }
  return [...seen.values()].sort((a, b) => a.label.localeCompare(b.label));
}
