/**
 * @module
 * The names of a set of flow files and where each is defined and used: devices, their tags,
 * polls, steps, sinks and triggers, and the references to them in `device:`, `from:`, a
 * poll's `tags:`, a step's `tags:` and a device's `simulator:` block. Kept per file (one
 * file re-parsed on each edit), answered across files: what completion, go to definition,
 * find references and the poll CodeLens need. Pure: no `vscode` import, tested with Deno.
 */

import { isMap, isScalar, isSeq, LineCounter, type Node, type Pair, parseDocument } from "yaml";

/** A zero-based position, as VS Code counts. */
export interface Pos {
  line: number;
  character: number;
}

/** A range in one file. */
export interface Span {
  file: string;
  start: Pos;
  end: Pos;
}

/** What a name defines. */
export type SymbolKind = "device" | "tag" | "poll" | "step" | "sink" | "trigger";

/** A definition: `devices.plc`, `devices.plc.tags.temp1`, `polls.fast`… */
export interface FlowSymbol {
  kind: SymbolKind;
  name: string;
  /** The device of a tag. */
  device?: string;
  /** The key's range. */
  span: Span;
  /** For a device: its driver; for a step or sink: its `use`; for a poll: its device. */
  detail?: string;
}

/** What a reference names. `source` is a poll, a step or a device (a `from:`). */
export type RefKind = "device" | "tag" | "source";

/** A use of a name. */
export interface FlowRef {
  kind: RefKind;
  name: string;
  /** For a tag of a poll or a simulator block: the device; a step's tags name any device's. */
  device?: string;
  span: Span;
  /** Where it is used, e.g. `polls.fast.tags`. */
  owner: string;
}

/** One file's names. */
export interface FileIndex {
  symbols: FlowSymbol[];
  refs: FlowRef[];
}

const SECTIONS: Record<string, SymbolKind> = {
  devices: "device",
  polls: "poll",
  steps: "step",
  sinks: "sink",
  triggers: "trigger",
};

/** Names of one flow file, from its text (a file that does not parse yields what it can). */
export function indexFile(file: string, text: string): FileIndex {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, keepSourceTokens: false });
  const out: FileIndex = { symbols: [], refs: [] };
  const span = (n: Node | null | undefined): Span | undefined => {
    const r = n?.range;
    if (!r) return undefined;
    const a = lc.linePos(r[0]);
    const b = lc.linePos(r[1]);
    return {
      file,
      start: { line: a.line - 1, character: a.col - 1 },
      end: { line: b.line - 1, character: b.col - 1 },
    };
  };
  const str = (n: unknown): string | undefined =>
    isScalar(n) && (typeof n.value === "string" || typeof n.value === "number")
      ? String(n.value)
      : undefined;
  const ref = (kind: RefKind, n: unknown, owner: string, device?: string) => {
    const push = (item: unknown) => {
      const name = str(item);
      const s = span(item as Node);
      if (name !== undefined && s) {
        out.refs.push({ kind, name, span: s, owner, ...(device ? { device } : {}) });
      }
    };
    if (isSeq(n)) n.items.forEach(push);
    else push(n);
  };
  const root = doc.contents;
  if (!isMap(root)) return out;
  for (const sec of root.items as Pair[]) {
    const secName = str(sec.key);
    const kind = secName ? SECTIONS[secName] : undefined;
    if (!kind || !isMap(sec.value)) continue;
    for (const entry of sec.value.items as Pair[]) {
      const name = str(entry.key);
      const s = span(entry.key as Node);
      if (name === undefined || !s) continue;
      const body = isMap(entry.value) ? entry.value : undefined;
      const field = (k: string) => body?.get(k, true);
      const detail = str(field(kind === "device" ? "driver" : kind === "poll" ? "device" : "use"));
      out.symbols.push({ kind, name, span: s, ...(detail ? { detail } : {}) });
      if (!body) continue;
      const owner = `${secName}.${name}`;
      if (kind === "device") {
        const tags = field("tags");
        if (isMap(tags)) {
          for (const t of tags.items as Pair[]) {
            const tn = str(t.key);
            const ts = span(t.key as Node);
            if (tn !== undefined && ts) {
              const type = isMap(t.value) ? str(t.value.get("type", true)) : undefined;
              out.symbols.push({
                kind: "tag",
                name: tn,
                device: name,
                span: ts,
                ...(type ? { detail: type } : {}),
              });
            }
          }
        }
        const sim = field("simulator");
        if (isMap(sim)) {
          for (const t of sim.items as Pair[]) ref("tag", t.key, `${owner}.simulator`, name);
        }
      } else if (kind === "poll") {
        ref("device", field("device"), `${owner}.device`);
        const tags = field("tags");
        if (!(isScalar(tags) && tags.value === "*")) {
          ref("tag", tags, `${owner}.tags`, detail);
        }
      } else if (kind === "step" || kind === "sink") {
        ref("source", field("from"), `${owner}.from`);
        if (kind === "step") ref("tag", field("tags"), `${owner}.tags`);
      }
    }
  }
  return out;
}

/** Whether a tag name or a glob (`temp*`, `t?`) of a step's `tags:` matches `name`. */
export function tagMatches(pattern: string, name: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === name;
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(
    /\?/g,
    ".",
  );
  return new RegExp(`^${re}$`).test(name);
}

function inside(s: Span, file: string, p: Pos): boolean {
  if (s.file !== file) return false;
  const afterStart = p.line > s.start.line ||
    (p.line === s.start.line && p.character >= s.start.character);
  const beforeEnd = p.line < s.end.line ||
    (p.line === s.end.line && p.character <= s.end.character);
  return afterStart && beforeEnd;
}

/** The names of every flow file, updated one file at a time. */
export class FlowIndex {
  #files = new Map<string, FileIndex>();

  /** Re-reads one file. */
  update(file: string, text: string): void {
    this.#files.set(file, indexFile(file, text));
  }

  /** Forgets a deleted file. */
  remove(file: string): void {
    this.#files.delete(file);
  }

  /** The files indexed. */
  get files(): string[] {
    return [...this.#files.keys()];
  }

  /** Every definition, optionally of one kind. */
  symbols(kind?: SymbolKind): FlowSymbol[] {
    const all = [...this.#files.values()].flatMap((f) => f.symbols);
    return kind ? all.filter((s) => s.kind === kind) : all;
  }

  /** Every reference. */
  refs(): FlowRef[] {
    return [...this.#files.values()].flatMap((f) => f.refs);
  }

  /** The definition or reference under a position. */
  at(file: string, pos: Pos): FlowSymbol | FlowRef | undefined {
    const f = this.#files.get(file);
    if (!f) return undefined;
    return f.refs.find((r) => inside(r.span, file, pos)) ??
      f.symbols.find((s) => inside(s.span, file, pos));
  }

  /** The definitions a reference points to (a tag glob may match several). */
  definitions(r: FlowRef): FlowSymbol[] {
    if (r.kind === "device") return this.symbols("device").filter((s) => s.name === r.name);
    if (r.kind === "source") {
      return this.symbols().filter((s) =>
        (s.kind === "poll" || s.kind === "step" || s.kind === "device") && s.name === r.name
      );
    }
    return this.symbols("tag").filter((s) =>
      tagMatches(r.name, s.name) && (r.device === undefined || s.device === r.device)
    );
  }

  /** The references to a definition. */
  references(s: FlowSymbol): FlowRef[] {
    return this.refs().filter((r) => {
      if (s.kind === "tag") {
        return r.kind === "tag" && tagMatches(r.name, s.name) &&
          (r.device === undefined || r.device === s.device);
      }
      if (r.name !== s.name) return false;
      if (s.kind === "device") return r.kind === "device" || r.kind === "source";
      return r.kind === "source" && (s.kind === "poll" || s.kind === "step");
    });
  }

  /** The symbol a definition or reference stands for (the first, for a glob). */
  resolve(x: FlowSymbol | FlowRef): FlowSymbol[] {
    return "owner" in x ? this.definitions(x) : [x];
  }

  /** The device a poll reads. */
  pollDevice(poll: string): string | undefined {
    return this.symbols("poll").find((s) => s.name === poll)?.detail;
  }
}
