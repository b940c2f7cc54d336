import { ModbusTcpClient } from "../../../drivers/modbus/client.ts";
import { readRequest } from "../../../drivers/modbus/pdu.ts";
// A fake TcpConn: write() answers the request into the pending read.
class FakeConn {
  #pendingRead: ((n: number | null) => void) | undefined;
  #target: Uint8Array | undefined;
  #queued: Uint8Array[] = [];
  resp(req: Uint8Array) {
    const count = req[11]!;
    const r = new Uint8Array(9 + 2 * count);
    r[0] = req[0]!;
    r[1] = req[1]!;
    r[5] = 3 + 2 * count;
    r[6] = req[6]!;
    r[7] = 3;
    r[8] = 2 * count;
    return r;
  }
  write(b: Uint8Array) {
    const r = this.resp(b);
    if (this.#pendingRead) {
      this.#target!.set(r);
      const f = this.#pendingRead;
      this.#pendingRead = undefined;
      f(r.length);
    } else this.#queued.push(r);
    return Promise.resolve(b.length);
  }
  read(buf: Uint8Array) {
    const q = this.#queued.shift();
    if (q) {
      buf.set(q);
      return Promise.resolve(q.length);
    }
    return new Promise<number | null>((res) => {
      this.#pendingRead = res;
      this.#target = buf;
    });
  }
  close() {}
  setNoDelay() {}
}
const C = ModbusTcpClient as unknown as new (
  c: unknown,
  w: string,
  t: number,
  m: number,
) => ModbusTcpClient;
const client = new C(new FakeConn(), "fake", 1000, 1);
const pdu = readRequest(3, 0, 10);
const raw = new FakeConn();
const req = new Uint8Array([0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 10]);
const buf = new Uint8Array(512);
const loops: Record<string, () => Promise<void>> = {
  ours: async () => {
    await client.request(1, pdu);
  },
  raw: async () => {
    await raw.write(req);
    let got = 0;
    while (got < 29) got += (await raw.read(buf.subarray(got)))!;
  },
};
for (const f of Object.values(loops)) for (let i = 0; i < 200000; i++) await f();
for (const [k, f] of Object.entries(loops)) {
  const t = performance.now();
  for (let i = 0; i < 500000; i++) await f();
  console.log(k, ((performance.now() - t) / 500000 * 1000).toFixed(2), "us/req");
}
Deno.exit(0);
