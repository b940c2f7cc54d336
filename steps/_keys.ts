/**
 * @module
 * Helpers shared by the analytics steps (window, alarm, anomaly, trend, swinging-door): a dense
 * index of (device, tag) keys, so that per-tag state lives in typed arrays addressed by an
 * integer instead of in one object per tag, and a grower for those arrays.
 *
 * The index is two-level (device, then tag) like the deadband step's memory: no string is built
 * per record, and consecutive records of one device cost one Map lookup each.
 */

/** Dense integer ids for (device, tag) pairs, in order of first appearance. */
export class KeyIndex {
  /** device → tag → id. */
  readonly #byDevice = new Map<string, Map<string, number>>();
  /** Device of each id. */
  readonly device: string[] = [];
  /** Tag of each id. */
  readonly tag: string[] = [];
  #lastDevice = "";
  #lastTags: Map<string, number> | undefined;
  /** device → id seen at each position of that device's last batch. */
  readonly #positions = new Map<string, Int32Array>();
  #lastPositions: Int32Array = new Int32Array(0);
  #lastPositionsDevice = "";

  /** Number of keys. */
  get size(): number {
    return this.device.length;
  }

  /** The id of (device, tag), created when new. */
  id(device: string, tag: string): number {
    let tags = this.#lastTags;
    if (device !== this.#lastDevice || tags === undefined) {
      tags = this.#byDevice.get(device);
      if (tags === undefined) this.#byDevice.set(device, tags = new Map());
      this.#lastDevice = device;
      this.#lastTags = tags;
    }
    let id = tags.get(tag);
    if (id === undefined) {
      id = this.device.length;
      tags.set(tag, id);
      this.device.push(device);
      this.tag.push(tag);
    }
    return id;
  }

  /**
   * The id of (device, tag) for record `i` of a batch. Polls repeat the same tags in the same
   * order, so the id seen at this position last time is checked first (two string compares,
   * usually of the same string object) before the Map lookup.
   */
  idAt(device: string, tag: string, i: number): number {
    let pos = this.#lastPositions;
    if (device !== this.#lastPositionsDevice) {
      pos = this.#positions.get(device) ?? new Int32Array(0);
      this.#lastPositions = pos;
      this.#lastPositionsDevice = device;
    }
    if (i < pos.length) {
      const g = pos[i]!;
      if (g >= 0 && this.tag[g] === tag && this.device[g] === device) return g;
    } else {
      const bigger = new Int32Array(Math.max(16, (i + 1) * 2)).fill(-1);
      bigger.set(pos);
      this.#positions.set(device, this.#lastPositions = pos = bigger);
    }
    const id = this.id(device, tag);
    pos[i] = id;
    return id;
  }

  /** The id of (device, tag), or -1 when unknown. */
  find(device: string, tag: string): number {
    return this.#byDevice.get(device)?.get(tag) ?? -1;
  }
}

/** A copy of `a` with room for at least `n` elements (doubling), or `a` when it has room. */
export function grow<T extends Float64Array | Uint8Array | Int32Array | Uint32Array>(
  a: T,
  n: number,
  fill = 0,
): T {
  if (n <= a.length) return a;
  let cap = Math.max(16, a.length * 2);
  while (cap < n) cap *= 2;
  const out = new (a.constructor as new (n: number) => T)(cap);
  out.set(a);
  if (fill !== 0) out.fill(fill, a.length);
  return out;
}

/**
 * Compiles an output name template (`{device}`, `{tag}`, `{key}`, `{agg}`… replaced) into a
 * function that concatenates its parts: names are built once per key, but for 10,000 keys
 * at once when a window first closes.
 *
 * @example
 * ```ts
 * compileTemplate("{tag}.{agg}")({ tag: "temp1", agg: "mean" }); // "temp1.mean"
 * ```
 */
export function compileTemplate(template: string): (parts: Record<string, string>) => string {
  const pieces = template.split(/(\{\w+\})/);
  return (parts) => {
    let s = "";
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i]!;
      s += i % 2 === 1 ? parts[p.slice(1, -1)] ?? p : p;
    }
    return s;
  };
}

/** Applies a template once (see {@linkcode compileTemplate}). */
export function applyTemplate(template: string, parts: Record<string, string>): string {
  return compileTemplate(template)(parts);
}
