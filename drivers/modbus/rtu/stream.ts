/**
 * @module
 * The byte streams an RTU transport runs on: a serial device (configured with `stty`,
 * read and written through two separate `Deno.open` handles, because a pending read
 * blocks writes on the same handle under Deno and the `serialport` addon cannot write
 * here), or a TCP connection to a serial device server (RTU over TCP: RTU frames, CRC
 * included, on the stream; no MBAP header).
 */

import { BifrostError } from "../../../engine/plugin.ts";

/** A duplex byte stream; `close()` also ends a pending `read()`. */
export interface RtuStream {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
}

/** Serial line settings. */
export interface SerialLineOptions {
  /** Device path, e.g. `/dev/ttyUSB0`. */
  path: string;
  /** Default 9600 (the Modbus serial default is 19200; most field devices ship at 9600). */
  baudRate?: number;
  /** Default "even" (the Modbus RTU default, 8E1). */
  parity?: "even" | "odd" | "none";
  /** Default 1, or 2 with `parity: "none"` (the spec keeps 11 bits per character). */
  stopBits?: 1 | 2;
  /**
   * Run `stty` on the device first. Default true. With false (a device set up elsewhere)
   * reads block until bytes arrive, and a read pending at `close()` is abandoned on its
   * blocking thread, where it may swallow the first chunk after a reopen.
   */
  configure?: boolean;
}

/** `stty time` of the line, in tenths of a second: how long an idle read blocks. */
export const SERIAL_READ_TICK_DS = 1;

/**
 * The `stty` arguments for a line: 8 data bits, raw, no echo, no flow control, reads that
 * return after {@linkcode SERIAL_READ_TICK_DS} of silence.
 */
export function sttyArgs(o: SerialLineOptions): string[] {
  const parity = o.parity ?? "even";
  const stop = o.stopBits ?? (parity === "none" ? 2 : 1);
  return [
    "-F",
    o.path,
    String(o.baudRate ?? 9600),
    "raw",
    "-echo",
    "min",
    "0",
    "time",
    String(SERIAL_READ_TICK_DS),
    "cs8",
    parity === "none" ? "-parenb" : "parenb",
    parity === "odd" ? "parodd" : "-parodd",
    stop === 2 ? "cstopb" : "-cstopb",
    "clocal",
    "-crtscts",
  ];
}

class SerialStream implements RtuStream {
  #closing = false;
  #reading = false;

  /** `ticks`: the line returns empty reads on silence (`min 0 time N`). */
  constructor(
    readonly reader: Deno.FsFile,
    readonly writer: Deno.FsFile,
    readonly ticks: boolean,
  ) {}

  /** Resolves with a byte count, or null once closed (or at a hang-up without ticks). */
  async read(p: Uint8Array): Promise<number | null> {
    this.#reading = true;
    try {
      for (;;) {
        if (this.#closing) return null;
        // Deno maps an empty read(2) to null: silence with ticks, a hang-up without.
        const n = await this.reader.read(p);
        if (n !== null) return n;
        if (!this.ticks) return null;
      }
    } finally {
      this.#reading = false;
      if (this.#closing) this.#closeHandles();
    }
  }

  write(p: Uint8Array): Promise<number> {
    return this.writer.write(p);
  }

  /** Closes now when idle, else when the pending read returns (at most one tick). */
  close(): void {
    this.#closing = true;
    if (!this.#reading || !this.ticks) this.#closeHandles();
  }

  #closeHandles(): void {
    for (const f of [this.reader, this.writer]) {
      try {
        f.close();
      } catch {
        // Already closed.
      }
    }
  }
}

/**
 * Configures a serial device and opens it; throws `DEVICE_UNREACHABLE` when `stty` fails
 * or the device cannot be opened.
 */
export async function openSerialStream(o: SerialLineOptions): Promise<RtuStream> {
  if (o.configure ?? true) {
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command("stty", { args: sttyArgs(o), stdout: "null", stderr: "piped" })
        .output();
    } catch (e) {
      throw new BifrostError(
        "DEVICE_UNREACHABLE",
        `Cannot configure serial device ${o.path}: stty did not run (${errorText(e)})`,
        { cause: e },
      );
    }
    if (!out.success) {
      const why = new TextDecoder().decode(out.stderr).trim();
      throw new BifrostError(
        "DEVICE_UNREACHABLE",
        `Cannot configure serial device ${o.path}: stty exited with ${out.code} (${why})`,
      );
    }
  }
  let reader: Deno.FsFile | undefined;
  try {
    reader = await Deno.open(o.path, { read: true });
    const writer = await Deno.open(o.path, { write: true });
    return new SerialStream(reader, writer, o.configure ?? true);
  } catch (e) {
    reader?.close();
    throw new BifrostError(
      "DEVICE_UNREACHABLE",
      `Cannot open serial device ${o.path}: ${errorText(e)}`,
      { cause: e },
    );
  }
}

/**
 * Connects to an RTU-over-TCP device server; throws `DEVICE_UNREACHABLE` when refused or
 * slower than `timeoutMs`.
 */
export async function connectTcpStream(
  host: string,
  port: number,
  timeoutMs: number,
): Promise<RtuStream> {
  const where = `${host}:${port}`;
  const attempt = Deno.connect({ hostname: host, port, transport: "tcp" });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const conn = await Promise.race([
      attempt,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new BifrostError(
                "DEVICE_UNREACHABLE",
                `Cannot connect to ${where}: no answer within ${timeoutMs} ms`,
              ),
            ),
          timeoutMs,
        );
      }),
    ]);
    conn.setNoDelay(true);
    return conn;
  } catch (e) {
    attempt.then((c) => c.close(), () => {});
    if (e instanceof BifrostError) throw e;
    throw new BifrostError("DEVICE_UNREACHABLE", `Cannot connect to ${where}: ${errorText(e)}`, {
      cause: e,
    });
  } finally {
    clearTimeout(timer);
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
