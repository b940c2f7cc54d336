/**
 * @module
 * The function API's types as files, for a flow repository to type-check its functions on
 * its own: `bifrost init` writes them under `.bifrost/` and maps `bifrost/functions` to
 * them, and `bifrost check` uses them for a repository without a `deno.json`. The texts are
 * imported (`with { type: "text" }`), so the compiled binary carries them: no network, no
 * source tree.
 */

import { join } from "node:path";
import apiText from "./api.ts" with { type: "text" };
import recordText from "../record.ts" with { type: "text" };

/** The API files, by path relative to the folder they are written to. */
export const API_FILES: Readonly<Record<string, string>> = {
  "engine/functions/api.ts": apiText,
  "engine/record.ts": recordText,
};

/** Where `bifrost/functions` leads inside that folder. */
export const API_ENTRY = "engine/functions/api.ts";

/**
 * Writes the API files under `dir`; returns the path of the entry module.
 *
 * @example
 * ```ts
 * const api = await writeApiFiles(".bifrost"); // ".bifrost/engine/functions/api.ts"
 * ```
 */
export async function writeApiFiles(dir: string): Promise<string> {
  for (const [rel, text] of Object.entries(API_FILES)) {
    const p = join(dir, rel);
    await Deno.mkdir(join(p, ".."), { recursive: true });
    await Deno.writeTextFile(p, text);
  }
  return join(dir, API_ENTRY);
}
