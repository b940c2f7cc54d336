/**
 * @module
 * What the Wireshark tests share: a pcap file of captured exchanges between two hosts
 * (10.0.0.1, the client, and 10.0.0.2, the server) over Ethernet/IPv4, as UDP datagrams or as
 * TCP segments with running sequence numbers, and `tshark -r` on it.
 */

/** Whether `tshark` runs here (the tests report themselves skipped by name when not). */
export const hasTshark: boolean = await new Deno.Command("tshark", {
  args: ["--version"],
  stdout: "null",
  stderr: "null",
}).output().then((r) => r.success, () => false);

/** One captured message: its direction and bytes. */
export interface Captured {
  toServer: boolean;
  data: Uint8Array;
}

/** The transport of a capture: UDP between two ports, or TCP from a client port to a server's. */
export type Transport =
  | { kind: "udp"; clientPort: number; serverPort: number }
  | { kind: "tcp"; clientPort: number; serverPort: number };

/** The messages as a pcap file (microsecond timestamps, one second apart). */
export function pcap(messages: Captured[], t: Transport): Uint8Array {
  const parts: Uint8Array[] = [];
  const head = new DataView(new ArrayBuffer(24));
  head.setUint32(0, 0xa1b2c3d4, true);
  head.setUint16(4, 2, true);
  head.setUint16(6, 4, true);
  head.setUint32(16, 262144, true);
  head.setUint32(20, 1, true);
  parts.push(new Uint8Array(head.buffer));
  const seq = { client: 1000, server: 5000 };
  const l4 = t.kind === "udp" ? 8 : 20;
  for (const [i, m] of messages.entries()) {
    const len = 14 + 20 + l4 + m.data.length;
    const rec = new Uint8Array(16 + len);
    const v = new DataView(rec.buffer);
    v.setUint32(0, 1_700_000_000 + i, true);
    v.setUint32(8, len, true);
    v.setUint32(12, len, true);
    const e = 16;
    rec.set(
      m.toServer ? [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1] : [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2],
      e,
    );
    v.setUint16(e + 12, 0x0800);
    const ip = e + 14;
    rec[ip] = 0x45;
    v.setUint16(ip + 2, 20 + l4 + m.data.length);
    v.setUint16(ip + 6, 0x4000);
    rec[ip + 8] = 64;
    rec[ip + 9] = t.kind === "udp" ? 17 : 6;
    rec.set(m.toServer ? [10, 0, 0, 1, 10, 0, 0, 2] : [10, 0, 0, 2, 10, 0, 0, 1], ip + 12);
    const at = ip + 20;
    v.setUint16(at, m.toServer ? t.clientPort : t.serverPort);
    v.setUint16(at + 2, m.toServer ? t.serverPort : t.clientPort);
    if (t.kind === "udp") {
      v.setUint16(at + 4, 8 + m.data.length);
    } else {
      v.setUint32(at + 4, m.toServer ? seq.client : seq.server);
      v.setUint32(at + 8, m.toServer ? seq.server : seq.client);
      rec[at + 12] = 0x50;
      rec[at + 13] = 0x18;
      v.setUint16(at + 14, 65535);
      if (m.toServer) seq.client += m.data.length;
      else seq.server += m.data.length;
    }
    rec.set(m.data, at + l4);
    parts.push(rec);
  }
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), at += p.length);
  return out;
}

/** `tshark -n -r file …args`: its standard output; a failure throws with its standard error. */
export async function tshark(file: string, ...args: string[]): Promise<string> {
  const r = await new Deno.Command("tshark", {
    args: ["-n", "-r", file, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!r.success) throw new Error(`tshark failed: ${new TextDecoder().decode(r.stderr)}`);
  return new TextDecoder().decode(r.stdout);
}
