/**
 * @module
 * Compiles a parsed expression (`parse.ts`) once into nested closures over a Float64Array of
 * variable slots: no `eval`, no `new Function` of flow text. Booleans are 1 and 0; a
 * comparison with NaN is false, arithmetic with NaN gives NaN (the step marks such results
 * bad).
 */

import type { Node } from "./parse.ts";

/** A compiled expression: reads its variables from `env`. */
export type Compiled = (env: Float64Array) => number;

const UNARY: Record<string, (x: number) => number> = {
  abs: Math.abs,
  sqrt: Math.sqrt,
  exp: Math.exp,
  ln: Math.log,
  log10: Math.log10,
  floor: Math.floor,
  ceil: Math.ceil,
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  isnan: (x) => (x !== x ? 1 : 0),
};

/** Compiles `n`; `slot(name)` gives the index of a variable in `env`. */
export function compile(n: Node, slot: (name: string) => number): Compiled {
  switch (n.k) {
    case "num": {
      const v = n.v;
      return () => v;
    }
    case "var": {
      const i = slot(n.name);
      return (env) => env[i]!;
    }
    case "un": {
      const a = compile(n.a, slot);
      return n.op === "-" ? (env) => -a(env) : (env) => (a(env) !== 0 ? 0 : 1);
    }
    case "if": {
      const c = compile(n.c, slot), a = compile(n.a, slot), b = compile(n.b, slot);
      return (env) => {
        const x = c(env);
        return x !== 0 && x === x ? a(env) : b(env);
      };
    }
    case "bin": {
      const a = compile(n.a, slot), b = compile(n.b, slot);
      switch (n.op) {
        case "+":
          return (env) => a(env) + b(env);
        case "-":
          return (env) => a(env) - b(env);
        case "*":
          return (env) => a(env) * b(env);
        case "/":
          return (env) => a(env) / b(env);
        case "%":
          return (env) => a(env) % b(env);
        case "^":
          return (env) => a(env) ** b(env);
        case "<":
          return (env) => (a(env) < b(env) ? 1 : 0);
        case "<=":
          return (env) => (a(env) <= b(env) ? 1 : 0);
        case ">":
          return (env) => (a(env) > b(env) ? 1 : 0);
        case ">=":
          return (env) => (a(env) >= b(env) ? 1 : 0);
        case "==":
          return (env) => (a(env) === b(env) ? 1 : 0);
        case "!=":
          return (env) => (a(env) !== b(env) ? 1 : 0);
        case "&&":
          return (env) => (a(env) !== 0 && b(env) !== 0 ? 1 : 0);
        case "||":
          return (env) => (a(env) !== 0 || b(env) !== 0 ? 1 : 0);
      }
      throw new TypeError(`Unknown operator ${n.op}`);
    }
    case "call": {
      const args = n.args.map((x) => compile(x, slot));
      const [a, b, c] = args;
      switch (n.fn) {
        case "min":
          return args.length === 2
            ? (env) => Math.min(a!(env), b!(env))
            : (env) => Math.min(...args.map((f) => f(env)));
        case "max":
          return args.length === 2
            ? (env) => Math.max(a!(env), b!(env))
            : (env) => Math.max(...args.map((f) => f(env)));
        case "avg":
          return (env) => {
            let s = 0;
            for (const f of args) s += f(env);
            return s / args.length;
          };
        case "hypot":
          return (env) => Math.hypot(...args.map((f) => f(env)));
        case "pow":
          return (env) => a!(env) ** b!(env);
        case "atan2":
          return (env) => Math.atan2(a!(env), b!(env));
        case "clamp":
          return (env) => Math.min(Math.max(a!(env), b!(env)), c!(env));
        case "round":
          if (!b) return (env) => Math.round(a!(env));
          return (env) => {
            const f = 10 ** b(env);
            return Math.round(a!(env) * f) / f;
          };
      }
      const f = UNARY[n.fn];
      if (!f) throw new TypeError(`Unknown function ${n.fn}`);
      return (env) => f(a!(env));
    }
  }
}
