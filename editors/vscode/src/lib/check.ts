/**
 * @module
 * `bifrost check --json` and `bifrost plan` as the editor needs them: issues grouped by
 * file with the range of the token each points at, the did-you-mean replacement a quick fix
 * applies, and each poll's requests for its CodeLens. Also where a flow file's flow
 * directory is (what `check` and `plan` are given).
 */

import type { Pos } from "./flow_index.ts";

/** One problem as `bifrost check --json` reports it (line and column 1-based). */
export interface CheckIssue {
  file: string;
  line: number;
  column: number;
  path?: string;
  message: string;
  severity: "error" | "warning";
}

/** An issue with its zero-based range. */
export interface PlacedIssue {
  issue: CheckIssue;
  start: Pos;
  end: Pos;
}

/** A replacement offered by a quick fix. */
export interface QuickFix {
  title: string;
  start: Pos;
  end: Pos;
  text: string;
}

/** The issues of `bifrost check --json`'s output; throws on anything else. */
export function parseCheckJson(stdout: string): CheckIssue[] {
  const start = stdout.indexOf("{");
  let doc: { errors?: CheckIssue[]; warnings?: CheckIssue[] };
  try {
    doc = JSON.parse(stdout.slice(start));
  } catch {
    throw new Error(
      `bifrost check did not answer JSON: ${stdout.trim().slice(0, 200) || "(no output)"}`,
    );
  }
  if (!Array.isArray(doc.errors) || !Array.isArray(doc.warnings)) {
    throw new Error("bifrost check answered JSON without errors and warnings lists");
  }
  return [...doc.errors, ...doc.warnings];
}

/** Issues grouped by file. */
export function byFile(issues: CheckIssue[]): Map<string, CheckIssue[]> {
  const m = new Map<string, CheckIssue[]>();
  for (const i of issues) m.set(i.file, [...(m.get(i.file) ?? []), i]);
  return m;
}

const TOKEN = /^(?:"[^"\n]*"|'[^'\n]*'|[^\s,:\]\}#]+)/;

/** The issue's range: the token at its line:column (a key, a value, a list item). */
export function placeIssue(text: string, issue: CheckIssue): PlacedIssue {
  const lines = text.split(/\r?\n/);
  const line = Math.max(0, Math.min(issue.line - 1, lines.length - 1));
  const l = lines[line] ?? "";
  const character = Math.max(0, Math.min(issue.column - 1, l.length));
  const m = TOKEN.exec(l.slice(character));
  const len = m ? m[0].length : Math.max(1, l.length - character);
  return { issue, start: { line, character }, end: { line, character: character + len } };
}

/** The replacement a did-you-mean message suggests for the token it points at, if any. */
export function didYouMeanFix(text: string, issue: CheckIssue): QuickFix | undefined {
  const sug = /\(did you mean "([^"]+)"\?\)/.exec(issue.message);
  if (!sug) return undefined;
  const right = sug[1]!;
  const placed = placeIssue(text, issue);
  const l = text.split(/\r?\n/)[placed.start.line] ?? "";
  const token = l.slice(placed.start.character, placed.end.character);
  const bare = token.replace(/^["']|["']$/g, "");
  // The wrong word is one of the message's quoted words, and it is the token there.
  const quoted = [...issue.message.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
  if (!quoted.includes(bare) || bare === right) return undefined;
  const quote = token.startsWith('"') ? '"' : token.startsWith("'") ? "'" : "";
  return {
    title: `Change "${bare}" to "${right}"`,
    start: placed.start,
    end: placed.end,
    text: `${quote}${right}${quote}`,
  };
}

/** One poll of `bifrost plan`: its header and one line per request. */
export interface PollPlan {
  poll: string;
  summary: string;
  requests: string[];
}

/** The polls of `bifrost plan`'s output, by name. */
export function parsePlan(stdout: string): Map<string, PollPlan> {
  const out = new Map<string, PollPlan>();
  let cur: PollPlan | undefined;
  for (const line of stdout.split(/\r?\n/)) {
    const head = /^(\S+) \((.*)\): (\d+) request\(s\)$/.exec(line);
    if (head) {
      cur = { poll: head[1]!, summary: `${head[3]} request(s), ${head[2]}`, requests: [] };
      out.set(cur.poll, cur);
    } else if (cur && line.startsWith("  ") && line.trim()) {
      cur.requests.push(line.trim());
    }
  }
  return out;
}

/** The CodeLens title of a poll's plan. */
export function planTitle(p: PollPlan): string {
  const shown = p.requests.slice(0, 2).join("; ");
  const more = p.requests.length > 2 ? `; +${p.requests.length - 2} more` : "";
  return `${p.requests.length} request(s): ${shown}${more}`;
}

/**
 * The flow directory of a flow file: its nearest ancestor named `flows`, else its own folder
 * (POSIX or Windows separators).
 */
export function flowDirOf(file: string): string {
  const sep = file.includes("\\") && !file.includes("/") ? "\\" : "/";
  const parts = file.split(sep);
  for (let i = parts.length - 2; i > 0; i--) {
    if (parts[i] === "flows") return parts.slice(0, i + 1).join(sep);
  }
  return parts.slice(0, -1).join(sep) || sep;
}
