/**
 * @module
 * A `socat` pseudo-terminal pair: two pty ends wired back to back, standing in for a serial
 * cable in tests and for the virtual serial line of `--simulate`. Linux ptys refuse
 * `parenb`, so lines on a pair run without parity (8N2 keeps the 11-bit characters).
 */

/** A running `socat` pty pair: `a` and `b` are symlinks to the two ends. */
export interface PtyPair extends AsyncDisposable {
  a: string;
  b: string;
  close(): Promise<void>;
}

/** True when a program runs (`socat -V`, `python3 -c ...`). */
export async function canRun(cmd: string, args: string[]): Promise<boolean> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output();
    return out.success;
  } catch {
    return false;
  }
}

const exists = async (p: string) => {
  try {
    await Deno.lstat(p);
    return true;
  } catch {
    return false;
  }
};

/**
 * Starts `socat -d -d pty,raw,echo=0,link=A pty,raw,echo=0,link=B` and waits (up to 2 s)
 * for both ends; throws an `Error` when socat is missing or the ends never appear.
 */
export async function startPtyPair(): Promise<PtyPair> {
  const dir = await Deno.makeTempDir({ prefix: "bifrost_rtu_" });
  const a = `${dir}/a`;
  const b = `${dir}/b`;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("socat", {
      args: ["-d", "-d", `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`],
      stdout: "null",
      stderr: "null",
    }).spawn();
  } catch (e) {
    await Deno.remove(dir, { recursive: true });
    throw new Error(`Cannot start socat for a pty pair: ${(e as Error).message}`, { cause: e });
  }
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
      await child.status;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    })();
    return closed;
  };
  for (let i = 0; i < 200 && !(await exists(a) && await exists(b)); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  if (!(await exists(a) && await exists(b))) {
    await close();
    throw new Error("Cannot start a pty pair: socat created no pty ends within 2 s");
  }
  return { a, b, close, [Symbol.asyncDispose]: close };
}
