/**
 * @module
 * The where clause of an event tag, as flows write it, parsed into a small tree (pure; the
 * client turns it into an OPC UA ContentFilter, `client/filter.ts`):
 *
 * ```
 * Severity >= 500 and SourceName = 'Boiler'
 * ofType(ExclusiveLimitAlarmType) and not (ActiveState.Id = false)
 * SourceName in ['Boiler', 'Pump'] or Message like 'Temp%'
 * ```
 *
 * Fields are browse paths from BaseEventType or a subtype, with dots (`ActiveState.Id`);
 * literals are numbers, 'text' or "text", true and false; operators `= != <> < <= > >=`,
 * `in [..]`, `like 'pattern'` (`%` any text, `_` one character), `and`, `or`, `not`,
 * parentheses, and `ofType(<EventType name or NodeId>)`. Errors name the column.
 */

/** A field of the event (a browse path) or a literal. */
export type WhereOperand =
  | { field: string[] }
  | { literal: string | number | boolean };

/** The parsed where clause. */
export type WhereNode =
  | { op: "and" | "or"; args: [WhereNode, WhereNode] }
  | { op: "not"; arg: WhereNode }
  | { op: "=" | "!=" | "<" | "<=" | ">" | ">="; left: WhereOperand; right: WhereOperand }
  | { op: "in"; left: WhereOperand; list: WhereOperand[] }
  | { op: "like"; left: WhereOperand; pattern: string }
  | { op: "ofType"; type: string };

/** Standard event types by name (Part 5), for `ofType(...)`. */
export const EVENT_TYPES: Record<string, string> = {
  BaseEventType: "i=2041",
  SystemEventType: "i=2130",
  DeviceFailureEventType: "i=2131",
  AuditEventType: "i=2052",
  TransitionEventType: "i=2311",
  ProgressEventType: "i=11436",
  ConditionType: "i=2782",
  AcknowledgeableConditionType: "i=2881",
  AlarmConditionType: "i=2915",
  DiscreteAlarmType: "i=10523",
  OffNormalAlarmType: "i=10637",
  TripAlarmType: "i=10751",
  LimitAlarmType: "i=2955",
  ExclusiveLimitAlarmType: "i=9341",
  ExclusiveLevelAlarmType: "i=9482",
  ExclusiveDeviationAlarmType: "i=9764",
  NonExclusiveLimitAlarmType: "i=9906",
  NonExclusiveLevelAlarmType: "i=10060",
};

/** A where clause that does not parse: `column` is 1-based. */
export class WhereSyntaxError extends Error {
  readonly column: number;
  constructor(column: number, message: string) {
    super(`Cannot parse the where clause at column ${column}: ${message}`);
    this.name = "WhereSyntaxError";
    this.column = column;
  }
}

type Tok = {
  kind: "id" | "num" | "str" | "op" | "punct" | "end";
  text: string;
  value?: string | number;
  at: number;
};

const KEYWORDS = new Set(["and", "or", "not", "in", "like", "true", "false"]);

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const at = i + 1;
    const two = src.slice(i, i + 2);
    if (["<=", ">=", "!=", "<>"].includes(two)) {
      out.push({ kind: "op", text: two === "<>" ? "!=" : two, at });
      i += 2;
    } else if ("=<>".includes(c)) {
      out.push({ kind: "op", text: c, at });
      i++;
    } else if ("()[],".includes(c)) {
      out.push({ kind: "punct", text: c, at });
      i++;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      let text = "";
      for (;;) {
        if (j >= src.length) {
          throw new WhereSyntaxError(at, `the text starting here has no closing ${c}`);
        }
        if (src[j] === c && src[j + 1] === c) {
          text += c;
          j += 2;
        } else if (src[j] === c) break;
        else text += src[j++];
      }
      out.push({ kind: "str", text: src.slice(i, j + 1), value: text, at });
      i = j + 1;
    } else if (/[0-9]/.test(c) || (c === "-" && /[0-9]/.test(src[i + 1] ?? ""))) {
      const m = /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?/.exec(src.slice(i))!;
      out.push({ kind: "num", text: m[0], value: Number(m[0]), at });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      // Identifiers, browse paths with dots, NodeIds inside ofType(...) (ns=2;i=5).
      const m = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(src.slice(i))!;
      out.push({ kind: "id", text: m[0], at });
      i += m[0].length;
    } else {
      throw new WhereSyntaxError(at, `unexpected character "${c}"`);
    }
  }
  out.push({ kind: "end", text: "the end", at: src.length + 1 });
  return out;
}

const CMP = new Set(["=", "!=", "<", "<=", ">", ">="]);

/**
 * Parses a where clause; throws {@linkcode WhereSyntaxError} naming the column.
 *
 * @example
 * ```ts
 * parseWhere("Severity >= 500 and SourceName = 'Boiler'");
 * ```
 */
export function parseWhere(src: string): WhereNode {
  if (src.trim() === "") throw new WhereSyntaxError(1, "the clause is empty");
  const toks = lex(src);
  let k = 0;
  const peek = () => toks[k]!;
  const next = () => toks[k++]!;
  const shown = (t: Tok) => t.kind === "end" ? "the end" : `"${t.text}"`;
  const isWord = (t: Tok, w: string) => t.kind === "id" && t.text.toLowerCase() === w;
  const expect = (text: string, what: string) => {
    const t = next();
    if (t.text !== text) throw new WhereSyntaxError(t.at, `expected ${what}, got ${shown(t)}`);
  };

  const operand = (): WhereOperand => {
    const t = next();
    if (t.kind === "num" || t.kind === "str") return { literal: t.value! };
    if (isWord(t, "true") || isWord(t, "false")) return { literal: isWord(t, "true") };
    if (t.kind === "id" && !KEYWORDS.has(t.text.toLowerCase())) {
      return { field: t.text.split(".") };
    }
    throw new WhereSyntaxError(
      t.at,
      `expected a field (e.g. Severity) or a value, got ${shown(t)}`,
    );
  };

  const primary = (): WhereNode => {
    const t = peek();
    if (t.text === "(") {
      next();
      const e = or();
      expect(")", `")" to close the "(" at column ${t.at}`);
      return e;
    }
    if (isWord(t, "oftype")) {
      next();
      expect("(", '"(" after ofType');
      const name = next();
      let type: string | undefined;
      if (name.kind === "id" && EVENT_TYPES[name.text]) type = EVENT_TYPES[name.text];
      else if (name.kind === "str") type = String(name.value);
      if (type === undefined) {
        throw new WhereSyntaxError(
          name.at,
          `ofType takes a standard event type (${
            Object.keys(EVENT_TYPES).slice(0, 4).join(", ")
          }, ...) or a NodeId in quotes ('ns=2;i=5001'), got ${shown(name)}`,
        );
      }
      expect(")", '")" after the event type');
      return { op: "ofType", type };
    }
    const left = operand();
    const o = next();
    if (o.kind === "op" && CMP.has(o.text)) {
      return { op: o.text as "=", left, right: operand() };
    }
    if (isWord(o, "in")) {
      const open = next();
      if (open.text !== "[") {
        throw new WhereSyntaxError(open.at, `expected "[" after in, got ${shown(open)}`);
      }
      const list: WhereOperand[] = [];
      for (;;) {
        const v = operand();
        if ("field" in v) {
          throw new WhereSyntaxError(toks[k - 1]!.at, "the list after in holds values, not fields");
        }
        list.push(v);
        const sep = next();
        if (sep.text === "]") break;
        if (sep.text !== ",") {
          throw new WhereSyntaxError(sep.at, `expected "," or "]", got ${shown(sep)}`);
        }
      }
      return { op: "in", left, list };
    }
    if (isWord(o, "like")) {
      const p = next();
      if (p.kind !== "str") {
        throw new WhereSyntaxError(
          p.at,
          `like takes a pattern in quotes ('Temp%'), got ${shown(p)}`,
        );
      }
      return { op: "like", left, pattern: String(p.value) };
    }
    throw new WhereSyntaxError(
      o.at,
      `expected a comparison (= != < <= > >=), in [...] or like after ${
        "field" in left ? left.field.join(".") : JSON.stringify(left.literal)
      }, got ${shown(o)}`,
    );
  };

  const not = (): WhereNode => {
    if (isWord(peek(), "not")) {
      next();
      return { op: "not", arg: not() };
    }
    return primary();
  };
  const and = (): WhereNode => {
    let l = not();
    while (isWord(peek(), "and")) {
      next();
      l = { op: "and", args: [l, not()] };
    }
    return l;
  };
  const or = (): WhereNode => {
    let l = and();
    while (isWord(peek(), "or")) {
      next();
      l = { op: "or", args: [l, and()] };
    }
    return l;
  };
  const tree = or();
  const rest = peek();
  if (rest.kind !== "end") {
    throw new WhereSyntaxError(rest.at, `expected and, or or the end, got ${shown(rest)}`);
  }
  return tree;
}
