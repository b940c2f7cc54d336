/**
 * @module
 * Logix tag addresses and their CIP request paths (IOI): `Counter`, `Tag[3]`, `Tag[2,1]`,
 * `Program:MainProgram.Counter`, `Line.Motor[2].Speed` (UDT members by dotted path), and
 * `Status.5` (bit 5 of an integer). Pure functions: text in, bytes out.
 */

/** One symbolic step of an address: a name and the indexes that follow it. */
export interface AddressPart {
  name: string;
  indexes: number[];
}

/** A parsed tag address. */
export interface TagAddress {
  /** The address as written. */
  text: string;
  /** `Program:Name` when the tag is program-scoped. */
  program?: string;
  parts: AddressPart[];
  /** A bit of an integer (`Tag.5`). */
  bit?: number;
}

/** The indexes of a part without any, shared (one array less per tag at 100k tags). */
const NO_INDEXES: number[] = Object.freeze([]) as unknown as number[];

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,39}$/;
const PART = /^([A-Za-z_][A-Za-z0-9_]*)(?:\[([0-9 ,]+)\])?$/;

/**
 * Parses a Logix tag address; throws a `RangeError` saying what is wrong.
 *
 * @example
 * ```ts
 * parseAddress("Program:Main.Motor[2].Speed");
 * // { program: "Program:Main", parts: [{ name: "Motor", indexes: [2] }, { name: "Speed", indexes: [] }] }
 * ```
 */
export function parseAddress(text: string): TagAddress {
  const bad = (why: string): never => {
    throw new RangeError(`Cannot parse tag address "${text}": ${why}`);
  };
  if (text.trim() === "") bad("it is empty");
  let rest = text;
  const out: TagAddress = { text, parts: [] };
  const m = /^Program:([^.]+)\.(.+)$/i.exec(text);
  if (m) {
    if (!NAME.test(m[1]!)) bad(`"${m[1]}" is not a program name`);
    out.program = `Program:${m[1]}`;
    rest = m[2]!;
  } else if (/^Program:/i.test(text)) bad("a program-scoped tag is Program:<program>.<tag>");
  const pieces = rest.split(".");
  for (const [i, p] of pieces.entries()) {
    if (/^[0-9]+$/.test(p)) {
      if (i !== pieces.length - 1 || i === 0) bad(`"${p}" can only be the last part (a bit)`);
      const bit = Number(p);
      if (bit > 63) bad(`bit ${bit} is beyond 63`);
      out.bit = bit;
      continue;
    }
    const pm = PART.exec(p);
    if (!pm) {
      bad(p === "" ? "an empty part between dots" : `"${p}" is not a tag or member name`);
    }
    if (pm![1]!.length > 40) bad(`"${pm![1]}" is longer than 40 characters`);
    const indexes = pm![2] === undefined ? NO_INDEXES : pm![2].split(",").map((s) => {
      const t = s.trim();
      if (!/^[0-9]+$/.test(t)) bad(`"[${pm![2]}]" is not a list of indexes`);
      return Number(t);
    });
    if (indexes.length > 3) bad("an array has at most 3 dimensions");
    out.parts.push({ name: pm![1]!, indexes });
  }
  return out;
}

/** The address without its bit and last indexes: what a structure or array read starts from. */
export function formatAddress(a: Omit<TagAddress, "text">): string {
  const parts = a.parts.map((p) => p.indexes.length ? `${p.name}[${p.indexes.join(",")}]` : p.name);
  const base = (a.program ? [a.program, ...parts] : parts).join(".");
  return a.bit === undefined ? base : `${base}.${a.bit}`;
}

function symbolic(out: number[], name: string): void {
  out.push(0x91, name.length);
  for (let i = 0; i < name.length; i++) out.push(name.charCodeAt(i) & 0xff);
  if (name.length % 2 === 1) out.push(0);
}

/** Appends an element segment (8, 16 or 32 bit). */
export function elementSegment(out: number[], i: number): void {
  if (i <= 0xff) out.push(0x28, i);
  else if (i <= 0xffff) out.push(0x29, 0, i & 0xff, i >> 8);
  else out.push(0x2a, 0, i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff, (i >>> 24) & 0xff);
}

/**
 * The request path (IOI) of an address, without its bit; `indexOverride` replaces the last
 * part's indexes (a BOOL array element is read through its DWORD).
 */
export function encodePath(a: TagAddress, lastIndexes?: number[]): Uint8Array {
  const out: number[] = [];
  if (a.program) symbolic(out, a.program);
  for (const [i, p] of a.parts.entries()) {
    symbolic(out, p.name);
    const idx = i === a.parts.length - 1 && lastIndexes ? lastIndexes : p.indexes;
    for (const n of idx) elementSegment(out, n);
  }
  return new Uint8Array(out);
}

/** A logical path to a class instance (and attribute): `20 cc 24 ii` with 16-bit forms. */
export function logicalPath(cls: number, instance: number, attribute?: number): Uint8Array {
  const out: number[] = [];
  if (cls <= 0xff) out.push(0x20, cls);
  else out.push(0x21, 0, cls & 0xff, cls >> 8);
  if (instance <= 0xff) out.push(0x24, instance);
  else out.push(0x25, 0, instance & 0xff, instance >> 8);
  if (attribute !== undefined) out.push(0x30, attribute);
  return new Uint8Array(out);
}

/**
 * Parses a route path (`1,0`: backplane port 1, slot 0; `1,0,2,10.0.0.9` through an
 * Ethernet module) into port segments; throws a `RangeError` saying what is wrong.
 */
export function parseRoutePath(text: string): Uint8Array {
  const bad = (why: string): never => {
    throw new RangeError(`Cannot parse route path "${text}": ${why}`);
  };
  const items = text.split(",").map((s) => s.trim());
  if (items.length % 2 !== 0) bad("expected pairs of port,link (e.g. 1,0)");
  const out: number[] = [];
  for (let i = 0; i < items.length; i += 2) {
    const port = Number(items[i]);
    const link = items[i + 1]!;
    if (!/^[0-9]+$/.test(items[i]!) || port < 1 || port > 14) {
      bad(`port "${items[i]}" is not 1..14`);
    }
    if (/^[0-9]+$/.test(link) && Number(link) <= 255) out.push(port, Number(link));
    else if (/^[0-9.]+$/.test(link)) {
      // An IP address link: extended link address segment, padded to even.
      out.push(0x10 | port, link.length);
      for (let k = 0; k < link.length; k++) out.push(link.charCodeAt(k));
      if (link.length % 2 === 1) out.push(0);
    } else bad(`link "${link}" is neither a slot 0..255 nor an IP address`);
  }
  return new Uint8Array(out);
}

/** Parses a request path back into symbolic names and element indexes (the simulator's side). */
export function decodePath(
  path: Uint8Array,
): { names: string[]; indexes: number[][]; logical: number[] } {
  const names: string[] = [];
  const indexes: number[][] = [];
  const logical: number[] = [];
  let i = 0;
  while (i < path.length) {
    const s = path[i]!;
    if (s === 0x91) {
      const n = path[i + 1]!;
      names.push(String.fromCharCode(...path.subarray(i + 2, i + 2 + n)));
      indexes.push([]);
      i += 2 + n + (n % 2);
    } else if (s === 0x28) {
      indexes[indexes.length - 1]?.push(path[i + 1]!);
      i += 2;
    } else if (s === 0x29) {
      indexes[indexes.length - 1]?.push(path[i + 2]! | (path[i + 3]! << 8));
      i += 4;
    } else if (s === 0x2a) {
      indexes[indexes.length - 1]?.push(
        (path[i + 2]! | (path[i + 3]! << 8) | (path[i + 4]! << 16) | (path[i + 5]! << 24)) >>> 0,
      );
      i += 6;
    } else if (s === 0x20 || s === 0x24 || s === 0x30) {
      logical.push(path[i + 1]!);
      i += 2;
    } else if (s === 0x21 || s === 0x25) {
      logical.push(path[i + 2]! | (path[i + 3]! << 8));
      i += 4;
    } else {
      throw new RangeError(`unknown path segment 0x${s.toString(16)} at byte ${i}`);
    }
  }
  return { names, indexes, logical };
}
