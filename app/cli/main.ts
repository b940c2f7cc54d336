/**
 * @module
 * The `bifrost` command line: the same commands from source (`deno task bifrost …`) and in
 * the compiled binary.
 */

import { runCommand } from "./commands.ts";

if (import.meta.main) {
  const code = await runCommand(Deno.args);
  Deno.exit(code);
}
