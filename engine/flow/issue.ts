/**
 * @module
 * A problem found in the flow files and its one-line form. Apart from `positions.ts` (which
 * needs the YAML parser) so that the gateway can print a reload's problems without loading
 * the parser.
 */

/** A problem found in the flow files. */
export interface ConfigIssue {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** JSON pointer of the node, e.g. `/devices/boiler-plc/port`. */
  path: string;
  message: string;
  severity: "error" | "warning";
}

/**
 * Formats an issue the way the CLI prints it.
 *
 * @example
 * ```ts
 * formatIssue(issue); // 'flows/boiler.yaml:14:9 error: unknown tag "tmep1" on device "boiler-plc" (did you mean "temp1"?)'
 * ```
 */
export function formatIssue(i: ConfigIssue): string {
  return `${i.file}:${i.line}:${i.column} ${i.severity}: ${i.message}`;
}
