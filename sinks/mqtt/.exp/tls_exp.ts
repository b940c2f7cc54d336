import mqtt from "mqtt";
import { readFileSync } from "node:fs";
import { makePki } from "/work/main/sinks/mqtt/_certs.ts";
import { Mosquitto } from "/work/main/sinks/mqtt/_mosquitto.ts";
const pki = await makePki();
await using b = await Mosquitto.start({ tls: { cafile: pki.ca, certfile: pki.serverCert, keyfile: pki.serverKey, requireCertificate: true, useIdentityAsUsername: true } });
async function tryc(name: string, o: Record<string, unknown>) {
  try {
    const c = await mqtt.connectAsync(b.url, { reconnectPeriod: 0, connectTimeout: 3000, ...o });
    console.log(name, "OK");
    await c.endAsync(true);
  } catch (e) { console.log(name, "ERR", (e as Error).constructor.name, (e as {code?:string}).code, (e as Error).message); }
}
const ca = readFileSync(pki.ca), cert = readFileSync(pki.clientCert), key = readFileSync(pki.clientKey);
await tryc("good", { ca, cert, key });
await tryc("wrongca", { ca: readFileSync(pki.otherCa), cert, key });
await tryc("nocert", { ca });
await tryc("noca", { cert, key });
await tryc("localhost-url", { ca, cert, key, host: "localhost" });
console.log(b.log());
await Deno.remove(pki.dir, { recursive: true });
