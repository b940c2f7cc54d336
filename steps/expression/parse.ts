/**
 * @module
 * The expression language of the `expression` and `alarm` steps: a lexer and a
 * recursive-descent parser to a small typed tree, with the offset of every token so that
 * `bifrost check` reports `file:line:column` of the offending token. No `eval`, no
 * `new Function`: `compile.ts` turns the tree into closures.
 *
 * Grammar (lowest precedence first):
 * ```
 * expr    = or [ "?" expr ":" expr ]
 * or      = and { ("||" | "or") and }
 * and     = not { ("&&" | "and") not }
 * not     = ("!" | "not") not | cmp
 * cmp     = sum [ ("<" | "<=" | ">" | ">=" | "==" | "!=") sum ]
 * sum     = product { ("+" | "-") product }
 * product = unary { ("*" | "/" | "%") unary }
 * unary   = "-" unary | power
 * power   = primary [ ("^" | "**") unary ]
 * primary = number | "true" | "false" | name | `quoted name` | name "(" args ")" | "(" expr ")"
 * ```
 * Names are tags of the record's device (or earlier outputs of the same step); a tag whose
 * name is not an identifier (`burner-on`) is written in backticks.
 */

/** The static type of an expression. */
export type ExprType = "number" | "boolean" | "any";

/** A node of the tree; `at` is the offset of its first character in the source. */
export type Node =
  | { k: "num"; v: number; at: number; t: ExprType }
  | { k: "var"; name: string; at: number; t: ExprType }
  | { k: "call"; fn: string; args: Node[]; at: number; t: ExprType }
  | { k: "bin"; op: string; a: Node; b: Node; at: number; t: ExprType }
  | { k: "un"; op: string; a: Node; at: number; t: ExprType }
  | { k: "if"; c: Node; a: Node; b: Node; at: number; t: ExprType };

/** A problem in an expression, at a character offset of its source. */
export class ExprError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
    this.name = "ExprError";
  }
}

/** Functions: arity range and result type ("arg" = the type of the arguments). */
export const FUNCTIONS: Record<string, { min: number; max: number; bool?: boolean }> = {
  if: { min: 3, max: 3 },
  min: { min: 1, max: 64 },
  max: { min: 1, max: 64 },
  abs: { min: 1, max: 1 },
  sqrt: { min: 1, max: 1 },
  exp: { min: 1, max: 1 },
  ln: { min: 1, max: 1 },
  log10: { min: 1, max: 1 },
  pow: { min: 2, max: 2 },
  round: { min: 1, max: 2 },
  floor: { min: 1, max: 1 },
  ceil: { min: 1, max: 1 },
  clamp: { min: 3, max: 3 },
  sin: { min: 1, max: 1 },
  cos: { min: 1, max: 1 },
  tan: { min: 1, max: 1 },
  atan2: { min: 2, max: 2 },
  hypot: { min: 1, max: 64 },
  avg: { min: 1, max: 64 },
  isnan: { min: 1, max: 1, bool: true },
};

/** Named constants. */
export const CONSTANTS: Record<string, number> = { pi: Math.PI, e: Math.E };

interface Token {
  k: "num" | "name" | "op" | "end";
  s: string;
  at: number;
  v?: number;
}

const OPS = [
  "**",
  "<=",
  ">=",
  "==",
  "!=",
  "&&",
  "||",
  "+",
  "-",
  "*",
  "/",
  "%",
  "^",
  "<",
  ">",
  "!",
  "(",
  ")",
  ",",
  "?",
  ":",
];

function lex(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    const num = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i));
    if (num) {
      out.push({ k: "num", s: num[0], at: i, v: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(src.slice(i));
    if (id) {
      out.push({ k: "name", s: id[0], at: i });
      i += id[0].length;
      continue;
    }
    if (c === "`") {
      const end = src.indexOf("`", i + 1);
      if (end < 0) throw new ExprError("Cannot find the closing ` of this tag name", i);
      if (end === i + 1) throw new ExprError("Cannot use an empty tag name ``", i);
      out.push({ k: "name", s: src.slice(i + 1, end), at: i });
      i = end + 1;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) {
      const hint = c === "="
        ? " (compare with ==)"
        : c === "'" || c === '"'
        ? " (quote tag names with `)"
        : "";
      throw new ExprError(`Cannot read "${c}" here${hint}`, i);
    }
    out.push({ k: "op", s: op, at: i });
    i += op.length;
  }
  out.push({ k: "end", s: "end of expression", at: src.length });
  return out;
}

/**
 * Parses and type-checks an expression. `known` (when given) lists the names that may be
 * used; any other name is an error at its position.
 *
 * @example
 * ```ts
 * parseExpression("voltage * current * 0.001").t; // "number"
 * ```
 */
export function parseExpression(src: string, known?: (name: string) => boolean): Node {
  const toks = lex(src);
  let p = 0;
  const peek = () => toks[p]!;
  const isOp = (s: string) => peek().k === "op" && peek().s === s;
  const isWord = (s: string) => peek().k === "name" && peek().s === s && src[peek().at] !== "`";
  const expect = (s: string, what: string) => {
    if (!isOp(s)) throw new ExprError(`Expected ${what} but found "${peek().s}"`, peek().at);
    p++;
  };
  const needNumber = (n: Node, what: string) => {
    if (n.t === "boolean") {
      throw new ExprError(`Cannot use a true/false value ${what}: it needs a number`, n.at);
    }
  };

  const expr = (): Node => {
    const c = or();
    if (!isOp("?")) return c;
    p++;
    const a = expr();
    expect(":", '":" of the "?" above');
    const b = expr();
    return cond(c, a, b, c.at);
  };
  const cond = (c: Node, a: Node, b: Node, at: number): Node => {
    if (c.t === "number") {
      throw new ExprError("Cannot use a number as a condition: compare it (e.g. x > 0)", c.at);
    }
    if (a.t !== "any" && b.t !== "any" && a.t !== b.t) {
      throw new ExprError(`Cannot mix a ${a.t} and a ${b.t} as the two results`, b.at);
    }
    return { k: "if", c, a, b, at, t: a.t === "any" ? b.t : a.t };
  };
  const logic = (next: () => Node, sym: string, word: string): Node => {
    let a = next();
    while (isOp(sym) || isWord(word)) {
      p++;
      const b = next();
      for (const n of [a, b]) {
        if (n.t === "number") {
          throw new ExprError(`Cannot use a number with "${sym}": compare it (e.g. x > 0)`, n.at);
        }
      }
      a = { k: "bin", op: sym, a, b, at: a.at, t: "boolean" };
    }
    return a;
  };
  const or = (): Node => logic(and, "||", "or");
  const and = (): Node => logic(not, "&&", "and");
  const not = (): Node => {
    if (isOp("!") || isWord("not")) {
      const at = peek().at;
      p++;
      const a = not();
      if (a.t === "number") {
        throw new ExprError('Cannot negate a number with "!": compare it (e.g. x == 0)', a.at);
      }
      return { k: "un", op: "!", a, at, t: "boolean" };
    }
    return cmp();
  };
  const cmp = (): Node => {
    const a = sum();
    const t = peek();
    if (t.k === "op" && ["<", "<=", ">", ">=", "==", "!="].includes(t.s)) {
      p++;
      const b = sum();
      if (t.s !== "==" && t.s !== "!=") {
        needNumber(a, `with "${t.s}"`);
        needNumber(b, `with "${t.s}"`);
      }
      const nt = peek();
      if (nt.k === "op" && ["<", "<=", ">", ">=", "==", "!="].includes(nt.s)) {
        throw new ExprError(`Cannot chain comparisons: write a ${t.s} b && b ${nt.s} c`, nt.at);
      }
      return { k: "bin", op: t.s, a, b, at: a.at, t: "boolean" };
    }
    return a;
  };
  const arith = (next: () => Node, ops: string[]): Node => {
    let a = next();
    while (peek().k === "op" && ops.includes(peek().s)) {
      const op = toks[p++]!.s;
      const b = next();
      needNumber(a, `with "${op}"`);
      needNumber(b, `with "${op}"`);
      a = { k: "bin", op, a, b, at: a.at, t: "number" };
    }
    return a;
  };
  const sum = (): Node => arith(product, ["+", "-"]);
  const product = (): Node => arith(unary, ["*", "/", "%"]);
  const unary = (): Node => {
    if (isOp("-")) {
      const at = peek().at;
      p++;
      const a = unary();
      needNumber(a, 'with "-"');
      return { k: "un", op: "-", a, at, t: "number" };
    }
    return power();
  };
  const power = (): Node => {
    const a = primary();
    if (isOp("^") || isOp("**")) {
      p++;
      const b = unary();
      needNumber(a, 'with "^"');
      needNumber(b, 'with "^"');
      return { k: "bin", op: "^", a, b, at: a.at, t: "number" };
    }
    return a;
  };
  const primary = (): Node => {
    const t = peek();
    if (t.k === "num") {
      p++;
      return { k: "num", v: t.v!, at: t.at, t: "number" };
    }
    if (t.k === "op" && t.s === "(") {
      p++;
      const e = expr();
      if (!isOp(")")) {
        throw new ExprError(
          `Expected ")" to close the "(" at character ${t.at + 1} but found "${peek().s}"`,
          peek().at,
        );
      }
      p++;
      return { ...e, at: t.at }; // errors about the group point at its "("
    }
    if (t.k === "name") {
      p++;
      const quoted = src[t.at] === "`";
      if (!quoted && isOp("(")) return call(t);
      if (!quoted && (t.s === "true" || t.s === "false")) {
        return { k: "num", v: t.s === "true" ? 1 : 0, at: t.at, t: "boolean" };
      }
      if (!quoted && t.s in CONSTANTS) {
        return { k: "num", v: CONSTANTS[t.s]!, at: t.at, t: "number" };
      }
      if (known && !known(t.s)) throw new ExprError(`Unknown name "${t.s}"`, t.at);
      return { k: "var", name: t.s, at: t.at, t: "any" };
    }
    throw new ExprError(
      t.k === "end"
        ? "Expected a value but the expression ended"
        : `Expected a value but found "${t.s}"`,
      t.at,
    );
  };
  const call = (name: Token): Node => {
    const f = FUNCTIONS[name.s];
    if (!f) {
      const near = Object.keys(FUNCTIONS).find((k) => k.toLowerCase() === name.s.toLowerCase());
      throw new ExprError(
        `Unknown function "${name.s}"${near ? ` (did you mean "${near}"?)` : ""}; known: ${
          Object.keys(FUNCTIONS).join(", ")
        }`,
        name.at,
      );
    }
    p++; // (
    const args: Node[] = [];
    if (!isOp(")")) {
      for (;;) {
        args.push(expr());
        if (isOp(",")) {
          p++;
          continue;
        }
        if (!isOp(")")) {
          throw new ExprError(
            `Expected "," or ")" in ${name.s}(...) but found "${peek().s}"`,
            peek().at,
          );
        }
        break;
      }
    }
    p++; // )
    if (args.length < f.min || args.length > f.max) {
      const want = f.min === f.max ? `${f.min}` : `${f.min} to ${f.max}`;
      throw new ExprError(
        `Cannot call ${name.s}() with ${args.length} argument${
          args.length === 1 ? "" : "s"
        }: it takes ${want}`,
        name.at,
      );
    }
    if (name.s === "if") return cond(args[0]!, args[1]!, args[2]!, name.at);
    for (const a of args) needNumber(a, `in ${name.s}()`);
    return { k: "call", fn: name.s, args, at: name.at, t: f.bool ? "boolean" : "number" };
  };

  const root = expr();
  if (peek().k !== "end") {
    throw new ExprError(`Expected an operator or the end but found "${peek().s}"`, peek().at);
  }
  return root;
}

/** The variable names an expression reads, in order of first use. */
export function variables(n: Node, out: string[] = []): string[] {
  switch (n.k) {
    case "var":
      if (!out.includes(n.name)) out.push(n.name);
      break;
    case "call":
      for (const a of n.args) variables(a, out);
      break;
    case "bin":
      variables(n.a, out);
      variables(n.b, out);
      break;
    case "un":
      variables(n.a, out);
      break;
    case "if":
      variables(n.c, out);
      variables(n.a, out);
      variables(n.b, out);
      break;
  }
  return out;
}
