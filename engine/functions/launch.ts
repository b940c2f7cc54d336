/**
 * @module
 * How a function's process is started (`child_process.ts` runs it): from source,
 * `deno run child.ts` with only the permissions the step grants as flags; in the compiled
 * binary, the binary itself with the hidden `__function-child` subcommand. A compiled
 * binary's permissions are baked in at compile time (`-A`) and Deno 2.9.6 cannot narrow
 * them at run time (revoking one path or host of a granted kind does nothing; revoking a
 * kind drops all of it, and nothing can be granted back without a prompt), so that child
 * revokes every permission before it evaluates anything, and a step granting
 * `permissions:` is refused there with a clear error. The heap limit reaches it through
 * `DENO_V8_FLAGS`.
 */

import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BifrostError } from "../errors.ts";

/** Permissions granted to a function's process; absolute paths for `read`. */
export interface FunctionPermissions {
  net?: string[];
  read?: string[];
  env?: string[];
}

/**
 * How the process is started: `source` is `deno run child.ts` with only the step's
 * permissions as flags; `self` is the gateway's own executable with the hidden
 * `__function-child` subcommand (the compiled binary), which revokes every permission
 * itself before it evaluates anything. From source, `self` runs `deno run -A child.ts
 * --drop-permissions`: the same revocation, for tests.
 */
export type LaunchMode = "source" | "self";

/** How to start the process of a function: executable, arguments and environment. */
export interface ProcessSetup {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** Environment every process gets: where Deno keeps its cache. */
const PASSED_ENV = ["HOME", "DENO_DIR", "XDG_CACHE_HOME", "PATH", "NO_COLOR"];

/** The project's deno.json for the process, when the host runs from a source tree. */
const CONFIG = (() => {
  try {
    const p = join(dirname(fileURLToPath(import.meta.url)), "../../deno.json");
    Deno.statSync(p);
    return [`--config=${p}`];
  } catch {
    return ["--no-config"];
  }
})();

const ENTRY = new URL("./child.ts", import.meta.url);

/** Whether this process is a `deno compile` binary. */
export function isCompiled(): boolean {
  return (Deno.build as { standalone?: boolean }).standalone === true;
}

/**
 * The arguments and environment of a function's process: a heap limit, the permissions
 * the step grants (none to read the module: the host sends its code), and of the
 * gateway's environment only what Deno needs and the variables granted. Throws
 * `FUNCTION_FAILED` when the process cannot be started as asked (see the module comment
 * of `host.ts` on permissions in the compiled binary).
 */
export function processSetup(
  permissions: FunctionPermissions,
  memoryMb: number,
  mode: LaunchMode = isCompiled() ? "self" : "source",
): ProcessSetup {
  const { read = [], net = [], env = [] } = permissions;
  // A young generation of 8 MB semi-spaces: bounded, and as fast as the default here.
  const v8 = `--max-old-space-size=${memoryMb},--max-semi-space-size=8`;
  const vars: Record<string, string> = {};
  for (const k of [...PASSED_ENV, ...env]) {
    const v = Deno.env.get(k);
    if (v !== undefined) vars[k] = v;
  }
  if (mode === "self") {
    const granted = [
      ...(read.length ? ["read"] : []),
      ...(net.length ? ["net"] : []),
      ...(env.length ? ["env"] : []),
    ];
    if (granted.length > 0) {
      throw new BifrostError(
        "FUNCTION_FAILED",
        `Cannot grant ${granted.join(", ")} permissions to a function in the compiled ` +
          "binary: it can only drop all of its permissions (Deno cannot narrow them at run " +
          "time); run the gateway from source (deno task bifrost) for this step",
        { details: { permissions: granted } },
      );
    }
    if (isCompiled()) {
      // The binary's V8 flags are baked in; DENO_V8_FLAGS adds the heap limit.
      return {
        command: Deno.execPath(),
        args: ["__function-child"],
        env: { ...vars, DENO_V8_FLAGS: v8 },
      };
    }
    return {
      command: denoExecutable(),
      args: [
        "run",
        "--quiet",
        "-A",
        `--v8-flags=${v8}`,
        ...CONFIG,
        ENTRY.pathname,
        "--drop-permissions",
      ],
      env: vars,
    };
  }
  const args = [
    "run",
    "--quiet",
    "--no-prompt",
    `--v8-flags=${v8}`,
    ...(read.length ? [`--allow-read=${read.join(",")}`] : []),
    ...(net.length ? [`--allow-net=${net.join(",")}`] : []),
    ...(env.length ? [`--allow-env=${env.join(",")}`] : []),
    ...CONFIG,
    ENTRY.pathname,
  ];
  return { command: denoExecutable(), args, env: vars };
}

/**
 * The `deno` that runs function processes from source: this one, with `child.ts` on disk.
 */
function denoExecutable(): string {
  const self = Deno.execPath();
  if (/^deno(\.exe)?$/.test(basename(self))) {
    try {
      if (Deno.statSync(ENTRY).isFile) return self;
    } catch {
      // Not on disk.
    }
  }
  throw new BifrostError(
    "FUNCTION_FAILED",
    `Cannot start a function process: the gateway runs neither under deno with its sources ` +
      `nor as a compiled bifrost binary (executable ${self})`,
  );
}
