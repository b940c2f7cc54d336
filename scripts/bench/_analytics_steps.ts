/**
 * @module
 * The analytics steps measured side by side with hand-written loops by `bench:analytics`: each
 * entry builds the step and a baseline doing the same arithmetic on the same batches (one
 * poll of 10,000 tags as 10 device batches), both returning the number of records they output
 * for a batch; the bench checks that the counts agree.
 *
 * The baselines are what a programmer would write for one fixed configuration: a Map from tag
 * to a dense index, typed arrays, no configuration branches, no quality handling.
 */

import { Batch } from "../../engine/plugin.ts";
import { createAlarm } from "../../steps/alarm/mod.ts";
import { createAnomaly } from "../../steps/anomaly/mod.ts";
import { createExpression } from "../../steps/expression/mod.ts";
import { createSwingingDoor } from "../../steps/swinging_door/mod.ts";
import { createTrend } from "../../steps/trend/mod.ts";

/** A step and its hand-written twin. */
export interface SideBySide {
  name: string;
  step(): (b: Batch) => number;
  hand(): (b: Batch) => number;
}

/** A dense index per (device, tag), the way a hand-written loop would keep one. */
function index() {
  const ids = new Map<string, Map<string, number>>();
  let n = 0;
  return {
    get size() {
      return n;
    },
    id(device: string, tag: string): number {
      let m = ids.get(device);
      if (!m) ids.set(device, m = new Map());
      let k = m.get(tag);
      if (k === undefined) m.set(tag, k = n++);
      return k;
    },
  };
}

/** A Float64Array that grows by doubling. */
function f64(): { a: Float64Array; need(n: number): Float64Array } {
  const o = {
    a: new Float64Array(1024),
    need(n: number) {
      if (n > o.a.length) {
        const b = new Float64Array(Math.max(n, o.a.length * 2));
        b.set(o.a);
        o.a = b;
      }
      return o.a;
    },
  };
  return o;
}

const Z_WINDOW = 30;

/** Every pair, in the order printed. */
export function analyticsSteps(): SideBySide[] {
  return [
    {
      name: "expression (2 outputs/device)",
      step() {
        const s = createExpression({
          set: { p: "tag1 * tag2 * 0.001", hot: "tag3 > 50 && tag4 < 55" },
          keep: false,
        });
        return (b) => s.process(b).length;
      },
      hand() {
        // Remember the four inputs per device; compute when any arrives.
        const mem = new Map<string, Float64Array>();
        return (b) => {
          const out = new Batch(4);
          const device = b.device[0]!;
          let m = mem.get(device);
          if (!m) mem.set(device, m = new Float64Array(4));
          let touched = false;
          for (let i = 0; i < b.length; i++) {
            const t = b.tag[i]!;
            const k = t === "tag1"
              ? 0
              : t === "tag2"
              ? 1
              : t === "tag3"
              ? 2
              : t === "tag4"
              ? 3
              : -1;
            if (k < 0) continue;
            m[k] = b.num[i]!;
            touched = true;
          }
          if (touched) {
            const ts = b.sourceTs[0]!;
            out.add(device, "p", m[0]! * m[1]! * 0.001, 0, undefined, ts, 0, 0);
            out.add(device, "hot", m[2]! > 50 && m[3]! < 55, 0, undefined, ts, 0, 0);
          }
          return out.length;
        };
      },
    },
    {
      name: "alarm (high, deadband)",
      step() {
        const s = createAlarm({ rules: [{ type: "high", limit: 59, deadband: 1 }] });
        return (b) => s.process(b).length;
      },
      hand() {
        const idx = index(), held = f64(), state = f64();
        return (b) => {
          const out = new Batch(4);
          for (let i = 0; i < b.length; i++) {
            const k = idx.id(b.device[i]!, b.tag[i]!);
            const h = held.need(k + 1), s = state.need(k + 1), v = b.num[i]!;
            const c = h[k] === 1 ? (v < 58 ? 0 : 1) : (v > 59 ? 1 : 0);
            h[k] = c;
            if (c === 1 && s[k] === 0) s[k] = 1; // NORM → UNACK
            else if (c === 0 && s[k] === 1) s[k] = 3; // UNACK → RTNUN
            else if (c === 1 && s[k] === 3) s[k] = 1;
            else continue;
            out.add(b.device[i]!, `${b.tag[i]}.high`, { state: s[k] }, 0, undefined, 0, 0, 0);
          }
          return out.length;
        };
      },
    },
    {
      name: `anomaly (zscore, window ${Z_WINDOW})`,
      step() {
        const s = createAnomaly({ method: "zscore", window: Z_WINDOW, threshold: 2 });
        return (b) => s.process(b).length;
      },
      hand() {
        const idx = index(), ring = f64(), sums = f64();
        const W = Z_WINDOW;
        return (b) => {
          const out = new Batch(4);
          for (let i = 0; i < b.length; i++) {
            const k = idx.id(b.device[i]!, b.tag[i]!);
            const r = ring.need((k + 1) * W), s = sums.need((k + 1) * 3), v = b.num[i]!;
            const o = k * 3, n = s[o]!, base = k * W;
            if (n >= W) {
              const mean = s[o + 1]! / W;
              const sd = Math.sqrt(Math.max(0, (s[o + 2]! - W * mean * mean) / (W - 1)));
              const z = (v - mean) / sd;
              if (Math.abs(z) > 2) {
                out.add(b.device[i]!, `${b.tag[i]}.zscore`, z, 0, undefined, 0, 0, 0);
              }
              const old = r[base + (n % W)]!;
              s[o + 1] = s[o + 1]! - old;
              s[o + 2] = s[o + 2]! - old * old;
            }
            r[base + (n % W)] = v;
            s[o + 1] = s[o + 1]! + v;
            s[o + 2] = s[o + 2]! + v * v;
            s[o] = n + 1;
            if ((n + 1) % W === 0) {
              let s1 = 0, s2 = 0;
              for (let j = 0; j < W; j++) {
                s1 += r[base + j]!;
                s2 += r[base + j]! * r[base + j]!;
              }
              s[o + 1] = s1;
              s[o + 2] = s2;
            }
          }
          return out.length;
        };
      },
    },
    {
      name: "swinging-door (deviation 0.5)",
      step() {
        const s = createSwingingDoor({ deviation: 0.5 });
        return (b) => s.process(b).length;
      },
      hand() {
        const idx = index(), st = f64();
        const E = 0.5, F = 7;
        return (b) => {
          // pivot ts, pivot v, up, low, held ts, held v, state
          const out = new Batch(b.length);
          for (let i = 0; i < b.length; i++) {
            const k = idx.id(b.device[i]!, b.tag[i]!);
            const a = st.need((k + 1) * F), o = k * F, ts = b.sourceTs[i]!, v = b.num[i]!;
            if (a[o + 6] === 0) {
              a[o] = ts, a[o + 1] = v, a[o + 2] = -Infinity, a[o + 3] = Infinity, a[o + 6] = 1;
              out.copyFrom(b, i);
              continue;
            }
            const dt = ts - a[o]!;
            const up = Math.max(a[o + 2]!, (v - a[o + 1]! - E) / dt);
            const low = Math.min(a[o + 3]!, (v - a[o + 1]! + E) / dt);
            if (up > low) {
              out.add(b.device[i]!, b.tag[i]!, a[o + 5]!, 0, undefined, a[o + 4]!, 0, 0);
              a[o] = a[o + 4]!, a[o + 1] = a[o + 5]!;
              const d2 = ts - a[o]!;
              a[o + 2] = (v - a[o + 1]! - E) / d2;
              a[o + 3] = (v - a[o + 1]! + E) / d2;
            } else {
              a[o + 2] = up;
              a[o + 3] = low;
            }
            a[o + 4] = ts, a[o + 5] = v, a[o + 6] = 2;
          }
          return out.length;
        };
      },
    },
    {
      name: "trend (slope, 30 s window)",
      step() {
        const s = createTrend({ window: "30s", unit: "s" });
        return (b) => s.process(b).length;
      },
      hand() {
        // Least squares over the last 30 s with running sums; points in a ring per tag.
        const idx = index(), sums = f64();
        const rings: { t: Float64Array; v: Float64Array; head: number; len: number }[] = [];
        return (b) => {
          const out = new Batch(b.length);
          for (let i = 0; i < b.length; i++) {
            const k = idx.id(b.device[i]!, b.tag[i]!);
            const s = sums.need((k + 1) * 6), o = k * 6, ts = b.sourceTs[i]!, v = b.num[i]!;
            let r = rings[k];
            if (!r) {
              rings[k] = r = {
                t: new Float64Array(512),
                v: new Float64Array(512),
                head: 0,
                len: 0,
              };
            }
            while (r.len > 0 && r.t[r.head % 512]! < ts - 30_000) {
              const t = (r.t[r.head % 512]! - s[o]!) / 1000, x = r.v[r.head % 512]!;
              s[o + 1] = s[o + 1]! - 1, s[o + 2] = s[o + 2]! - t, s[o + 3] = s[o + 3]! - x;
              s[o + 4] = s[o + 4]! - t * t, s[o + 5] = s[o + 5]! - t * x;
              r.head++, r.len--;
            }
            if (r.len === 0) s[o] = ts;
            const at = (r.head + r.len++) % 512;
            r.t[at] = ts, r.v[at] = v;
            const t = (ts - s[o]!) / 1000;
            s[o + 1] = s[o + 1]! + 1, s[o + 2] = s[o + 2]! + t, s[o + 3] = s[o + 3]! + v;
            s[o + 4] = s[o + 4]! + t * t, s[o + 5] = s[o + 5]! + t * v;
            const n = s[o + 1]!;
            if (n < 3) continue;
            const sxx = s[o + 4]! - s[o + 2]! * s[o + 2]! / n;
            if (!(sxx > 0)) continue;
            const slope = (s[o + 5]! - s[o + 2]! * s[o + 3]! / n) / sxx;
            out.add(b.device[i]!, `${b.tag[i]}.slope`, slope, 0, undefined, ts, 0, 0);
          }
          return out.length;
        };
      },
    },
  ];
}
