/**
 * @module
 * node-opcua-crypto restores `OPENSSL_CONF` after reading a key by assigning the old value,
 * which stores the string "undefined" when the variable was not set: every `openssl` the
 * gateway starts afterwards fails. The driver and the simulator undo it.
 */

import { assertEquals } from "../../tests/_assert.ts";
import { nullLogger } from "../../engine/log.ts";
import { systemClock } from "../../engine/clock.ts";
import { opcua } from "./mod.ts";
import { startOpcuaSimulator } from "./simulator/server.ts";
import { guardOpensslConf } from "./client/load.ts";
import process from "node:process";

// The client loads on first use (`load()`), as in a gateway.
await opcua.load?.();

Deno.test("opcua: connecting (keys read by node-opcua) leaves OPENSSL_CONF as it was", async () => {
  const before = Deno.env.get("OPENSSL_CONF");
  Deno.env.delete("OPENSSL_CONF");
  const pki = await Deno.makeTempDir({ prefix: "bifrost-opcua-env-" });
  try {
    await using sim = await startOpcuaSimulator({ changeEveryMs: 0 });
    assertEquals(Deno.env.get("OPENSSL_CONF"), undefined, "after the simulator's start");
    const driver = opcua.create({
      name: "env",
      driver: "opcua",
      config: { endpoint: sim.endpoint, pki, timeout: "5s" },
      tags: new Map(),
    }, { log: nullLogger, clock: systemClock });
    await driver.connect(AbortSignal.timeout(20_000));
    try {
      assertEquals(Deno.env.get("OPENSSL_CONF"), undefined, "after the driver's connect");
    } finally {
      await driver.close();
    }
  } finally {
    if (before !== undefined) Deno.env.set("OPENSSL_CONF", before);
    await Deno.remove(pki, { recursive: true });
  }
});

Deno.test("opcua: node-opcua-crypto's save-and-restore of an unset OPENSSL_CONF leaves it unset", () => {
  const before = Deno.env.get("OPENSSL_CONF");
  Deno.env.delete("OPENSSL_CONF");
  try {
    guardOpensslConf();
    // What node-opcua-crypto's readPrivateKey does around createPrivateKey.
    const backup = process.env.OPENSSL_CONF;
    process.env.OPENSSL_CONF = "/dev/null";
    assertEquals(Deno.env.get("OPENSSL_CONF"), "/dev/null");
    process.env.OPENSSL_CONF = backup;
    assertEquals(Deno.env.get("OPENSSL_CONF"), undefined);
    assertEquals("OPENSSL_CONF" in process.env, false);
    process.env.BIFROST_ENV_GUARD = "1";
    assertEquals(Deno.env.get("BIFROST_ENV_GUARD"), "1");
    delete process.env.BIFROST_ENV_GUARD;
    assertEquals(Deno.env.get("BIFROST_ENV_GUARD"), undefined);
  } finally {
    if (before !== undefined) Deno.env.set("OPENSSL_CONF", before);
  }
});
