/**
 * @module
 * Writes a {@linkcode FlowDraft} (from a driver's browse tool) as a flow file: a header
 * saying how it was made, the devices with their tags, the candidates commented out one per
 * line (uncommenting a line keeps the file valid), and a commented poll.
 */

import { stringify } from "yaml";
import type { FlowDraft, FlowDraftTag } from "../../engine/driver.ts";

function scalar(v: unknown): string {
  if (v !== null && typeof v === "object") return JSON.stringify(v);
  // Tags are written as flow mappings, where [ ] { } , end a plain scalar: `TestDINT[0]`
  // must be quoted there, although a block value would not need it.
  if (typeof v === "string" && /[[\]{},]/.test(v)) return JSON.stringify(v);
  return stringify(v).trimEnd();
}

function key(k: string): string {
  return /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(k) ? k : JSON.stringify(k);
}

function tagLine(t: FlowDraftTag): string {
  const fields = Object.entries(t.fields).map(([k, v]) => `${key(k)}: ${scalar(v)}`);
  return `${key(t.name)}: { ${fields.join(", ")} }`;
}

const comment = (indent: string, text: string) =>
  text.split("\n").map((l) => `${indent}# ${l}`.trimEnd());

/** The flow file of `draft`; `command` is written in its header. */
export function draftYaml(draft: FlowDraft, command: string): string {
  const lines = [
    `# Written by \`${command}\`.`,
    "# Uncomment the candidate tags you need, name them, and add a poll (see the end).",
    ...draft.notes.flatMap((n) => comment("", n)),
    "version: 1",
    "",
    "devices:",
  ];
  if (draft.devices.length === 0) lines[lines.length - 1] = "devices: {}";
  for (const d of draft.devices) {
    lines.push(`  ${key(d.name)}:`);
    for (const n of d.notes) lines.push(...comment("    ", n));
    for (const [k, v] of Object.entries(d.fields)) lines.push(`    ${key(k)}: ${scalar(v)}`);
    lines.push(d.tags.length === 0 && d.candidates.length === 0 ? "    tags: {}" : "    tags:");
    for (const t of d.tags) {
      if (t.comment) lines.push(...comment("      ", t.comment));
      lines.push(`      ${tagLine(t)}`);
    }
    if (d.tags.length === 0 && d.candidates.length > 0) {
      // All-commented tags would leave `tags:` empty (null): an empty map keeps it valid.
      lines[lines.length - 1] = "    tags: {}";
      lines.push("      # Move a candidate below to `tags:` to use it.");
    }
    for (const t of d.candidates) {
      lines.push(...comment("      ", t.comment ? `${tagLine(t)}  # ${t.comment}` : tagLine(t)));
    }
  }
  const first = draft.devices.find((d) => d.tags.length > 0);
  if (first) {
    lines.push(
      "",
      "# polls:",
      `#   ${first.name}-poll:`,
      `#     device: ${first.name}`,
      `#     tags: [${first.tags.map((t) => t.name).join(", ")}]`,
      "#     every: 1s",
    );
  }
  return lines.join("\n") + "\n";
}
