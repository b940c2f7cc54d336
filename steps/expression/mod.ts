/**
 * @module
 * The `expression` step: computes new tags from the tags of a device, e.g.
 * `power_kw: voltage * current * 0.001`. Each expression is parsed, type-checked (by
 * `bifrost check`, with the line and column of the offending token) and compiled once to
 * closures (`compile.ts`); nothing of the flow text is ever `eval`ed.
 *
 * Per device the step remembers the last value of every name its expressions read, in a
 * Float64Array. When a batch brings any of them, the expressions that read it are computed
 * (in the order written, so a later one may use an earlier result) and their records added:
 * same device, the newest source time of the inputs, the worst quality of the inputs (a bad
 * input or a result that is not a finite number makes the record bad, with the reason).
 * An expression whose inputs were never all seen for a device is not computed and counted as
 * `waiting`.
 */

import { type Static, Type } from "@sinclair/typebox";
import {
  Batch,
  NAME_PATTERN,
  Quality,
  type Step,
  type StepContext,
  type StepIssue,
  type StepModule,
  StorageKind,
} from "../../engine/plugin.ts";
import { nameMatcher } from "../_shared.ts";
import { DevicesField } from "../_shared.ts";
import { compile, type Compiled } from "./compile.ts";
import { ExprError, type Node, parseExpression, variables } from "./parse.ts";

/** The `expression` step's fields. */
export const ExpressionSpec = Type.Object({
  devices: DevicesField,
  set: Type.Record(Type.String({ pattern: NAME_PATTERN }), Type.String({ minLength: 1 }), {
    minProperties: 1,
    description:
      "New tag name → expression over the device's tags: + - * / % ^, comparisons, && || !, `c ? a : b`, if(c, a, b), min, max, avg, abs, sqrt, exp, ln, log10, pow, round(x, digits), floor, ceil, clamp(x, lo, hi), sin, cos, tan, atan2, hypot, isnan, pi, e. Tag names that are not identifiers go in backticks.",
    examples: [{ power_kw: "voltage * current * 0.001", overheat: "temp1 > 80 && `burner-on`" }],
  }),
  keep: Type.Optional(Type.Boolean({
    default: true,
    description: "Pass the input records on beside the computed ones.",
  })),
}, {
  additionalProperties: false,
  description: "Computes new tags from expressions over the tags of each device.",
  examples: [{ set: { power_kw: "voltage * current * 0.001" } }],
});

/** The `expression` step's config. */
export type ExpressionConfig = Static<typeof ExpressionSpec>;

interface Expr {
  name: string;
  tree: Node;
  fn: Compiled;
  reads: Int32Array;
  out: number;
  bool: boolean;
}

interface DeviceState {
  env: Float64Array;
  quality: Uint8Array;
  ts: Float64Array;
  seen: Uint8Array;
  /** Batch number in which each slot was last written. */
  touched: Float64Array;
  reason: (string | undefined)[];
  /** Batch number in which the device was last listed as having new inputs. */
  dirtyIn: number;
}

/** Parses every expression; the issues carry the offset of the offending token. */
export function parseAll(
  config: ExpressionConfig,
): { trees: [string, Node][]; issues: StepIssue[] } {
  const trees: [string, Node][] = [];
  const issues: StepIssue[] = [];
  for (const [name, src] of Object.entries(config.set)) {
    try {
      trees.push([name, parseExpression(src)]);
    } catch (e) {
      if (!(e instanceof ExprError)) throw e;
      issues.push({
        message: `Cannot use expression of "${name}": ${e.message}`,
        path: ["set", name],
        offset: e.offset,
      });
    }
  }
  return { trees, issues };
}

/**
 * The slot of the name at each position of the last batches: polls repeat the same names in
 * the same order (usually the same string objects), so a position's name is compared before
 * the Map is asked. Kept out of `process` so that this loop, which sees every record while
 * few feed an expression, compiles on its own.
 */
class PositionCache {
  names: string[] = [];
  slot = new Int32Array(0);

  /** Writes the positions of `tags[0..len)` that have a slot into `hits`; returns how many. */
  scan(tags: string[], len: number, slots: Map<string, number>, hits: Int32Array): number {
    if (this.slot.length < len) this.#grow(len);
    const names = this.names, slot = this.slot;
    let found = 0;
    for (let i = 0; i < len; i++) {
      const tag = tags[i]!;
      let k: number;
      if (names[i] === tag) k = slot[i]!;
      else {
        k = slots.get(tag) ?? -1;
        names[i] = tag;
        slot[i] = k;
      }
      if (k >= 0) hits[found++] = i;
    }
    return found;
  }

  #grow(len: number): void {
    const g = new Int32Array(Math.max(64, len * 2));
    g.set(this.slot);
    this.slot = g;
    while (this.names.length < g.length) this.names.push("");
  }
}

/** An expression step. */
export interface ExpressionStep extends Step {
  process(b: Batch): Batch;
  stats(): Record<string, number>;
}

/** Creates an expression step. */
export function createExpression(
  config: ExpressionConfig,
  ctx?: Pick<StepContext, "clock">,
): ExpressionStep {
  const { trees, issues } = parseAll(config);
  if (issues.length > 0) throw new RangeError(issues[0]!.message);
  const slots = new Map<string, number>();
  const slot = (name: string) => {
    let i = slots.get(name);
    if (i === undefined) slots.set(name, i = slots.size);
    return i;
  };
  const exprs: Expr[] = trees.map(([name, tree]) => {
    const reads = Int32Array.from(variables(tree).map(slot));
    return {
      name,
      tree,
      fn: compile(tree, slot),
      reads,
      out: slot(name),
      bool: tree.t === "boolean",
    };
  });
  const n = slots.size;
  const names = [...slots.keys()];
  const devices = nameMatcher(config.devices);
  const keep = config.keep !== false;
  const state = new Map<string, DeviceState>();
  const clock = ctx?.clock;
  let seq = (clock?.now() ?? Date.now()) * 1000;
  let batchNo = 0;
  const cache = new PositionCache();
  let hits = new Int32Array(64);
  const stats = { computed: 0, waiting: 0, bad: 0 };
  const dirty: [string, DeviceState][] = []; // reused: the devices with new inputs in a batch
  // A poll's batch is usually one device's: room for one record per expression (it grows).
  const outCapacity = Math.max(4, exprs.length);

  const stateOf = (device: string): DeviceState => {
    let s = state.get(device);
    if (!s) {
      s = {
        env: new Float64Array(n),
        quality: new Uint8Array(n),
        ts: new Float64Array(n),
        seen: new Uint8Array(n),
        touched: new Float64Array(n).fill(-1),
        reason: new Array(n),
        dirtyIn: -1,
      };
      state.set(device, s);
    }
    return s;
  };

  return {
    process(b: Batch): Batch {
      batchNo++;
      const out = keep ? b : new Batch(outCapacity);
      const len = b.length;
      dirty.length = 0;
      if (hits.length < len) hits = new Int32Array(len * 2);
      const found = cache.scan(b.tag, len, slots, hits);
      const deviceCol = b.device, kinds = b.kind;
      let lastDevice = "", last: DeviceState | undefined;
      for (let h = 0; h < found; h++) {
        const i = hits[h]!, k = cache.slot[i]!;
        const device = deviceCol[i]!;
        if (devices !== undefined && !devices(device)) continue;
        const kind = kinds[i]!;
        if (kind !== StorageKind.number && kind !== StorageKind.boolean) continue;
        if (device !== lastDevice || !last) {
          last = stateOf(device);
          lastDevice = device;
        }
        if (last.dirtyIn !== batchNo) {
          last.dirtyIn = batchNo;
          dirty.push([device, last]);
        }
        last.env[k] = b.num[i]!;
        last.quality[k] = b.quality[i]!;
        last.reason[k] = b.reason[i];
        last.ts[k] = b.sourceTs[i]!;
        last.seen[k] = 1;
        last.touched[k] = batchNo;
      }
      const now = clock?.now() ?? Date.now();
      for (const [device, s] of dirty) {
        for (const e of exprs) {
          let fresh = false, ready = true, q = 0, ts = -Infinity;
          let reason: string | undefined;
          for (let j = 0; j < e.reads.length; j++) {
            const r = e.reads[j]!;
            if (s.touched[r] === batchNo) fresh = true;
            if (s.seen[r] === 0) ready = false;
            if (s.quality[r]! > q) {
              q = s.quality[r]!;
              reason = `input "${names[r]}" is ${q === Quality.bad ? "bad" : "uncertain"}${
                s.reason[r] ? `: ${s.reason[r]}` : ""
              }`;
            }
            if (s.ts[r]! > ts) ts = s.ts[r]!;
          }
          if (!fresh) continue;
          if (!ready) {
            stats.waiting++;
            continue;
          }
          let v = e.fn(s.env);
          if (!Number.isFinite(v) && q < Quality.bad) {
            q = Quality.bad;
            reason = `result of "${e.name}" is not a finite number (${v})`;
          }
          if (q === Quality.bad) stats.bad++;
          stats.computed++;
          s.env[e.out] = v;
          s.quality[e.out] = q;
          s.reason[e.out] = reason;
          s.ts[e.out] = ts;
          s.seen[e.out] = 1;
          s.touched[e.out] = batchNo;
          if (e.bool) v = v !== 0 ? 1 : 0;
          out.add(device, e.name, e.bool ? v === 1 : v, q as 0, reason, ts, now, seq++);
        }
      }
      return out;
    },
    stats: () => ({ ...stats }),
  };
}

/** The `expression` step. */
export const expressionStep: StepModule<ExpressionConfig> = {
  name: "expression",
  description:
    "Computes new tags from expressions over each device's tags (parsed and compiled once).",
  status: "beta",
  spec: ExpressionSpec,
  example: `
steps:
  computed:
    use: expression
    from: meters
    set:
      power_kw: voltage * current * power_factor * 0.001
      apparent_kva: voltage * current * 0.001
      overload: power_kw > 0.9 * rated_kw
      state: "if(\`burner-on\`, if(temp1 > 80, 2, 1), 0)"
`,
  create: (config, ctx) => createExpression(config, ctx),
  validate: (config) => parseAll(config).issues,
};
