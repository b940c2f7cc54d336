/**
 * @module
 * The gateway store: URL and token in the secret storage, names in global state, and the
 * one-time move of the old `bifrost.gateways` setting and `bifrost.token.<name>` secrets.
 */

import assert from "node:assert/strict";
import { GatewayStore, legacyTokenKey, NAMES_KEY, secretKey } from "./gateway_store.ts";

/** In-memory stand-ins with the same contract as VS Code's SecretStorage and Memento. */
function memory() {
  const secrets = new Map<string, string>();
  const state = new Map<string, unknown>();
  return {
    secrets,
    state,
    store: new GatewayStore(
      {
        get: (k) => Promise.resolve(secrets.get(k)),
        store: (k, v) => Promise.resolve(void secrets.set(k, v)),
        delete: (k) => Promise.resolve(void secrets.delete(k)),
      },
      {
        get: <T>(k: string) => state.get(k) as T | undefined,
        update: (k, v) => Promise.resolve(void state.set(k, v)),
      },
    ),
  };
}

Deno.test("save() keeps URL and token in the secret storage and only the name in state", async () => {
  const m = memory();
  await m.store.save({ name: "plant-a", url: "https://10.1.2.3:8720", token: "t0ken" });
  await m.store.save({ name: "lab", url: "http://127.0.0.1:8720" });
  assert.deepEqual(m.state.get(NAMES_KEY), ["plant-a", "lab"]);
  assert.ok(!JSON.stringify([...m.state.values()]).includes("10.1.2.3"));
  assert.deepEqual(JSON.parse(m.secrets.get(secretKey("plant-a"))!), {
    url: "https://10.1.2.3:8720",
    token: "t0ken",
  });
  assert.deepEqual((await m.store.list()).gateways, [
    { name: "plant-a", url: "https://10.1.2.3:8720", token: "t0ken" },
    { name: "lab", url: "http://127.0.0.1:8720" },
  ]);
  // Saving again under the same name replaces, keeping the order.
  await m.store.save({ name: "plant-a", url: "https://10.1.2.4:8720" });
  assert.deepEqual(m.store.names(), ["plant-a", "lab"]);
  assert.deepEqual(await m.store.get("plant-a"), { name: "plant-a", url: "https://10.1.2.4:8720" });
  await assert.rejects(m.store.save({ name: " ", url: "x" }), /needs a name/);
});

Deno.test("list() reports names whose secret is gone; remove() forgets everything", async () => {
  const m = memory();
  await m.store.save({ name: "a", url: "http://a", token: "x" });
  await m.store.save({ name: "b", url: "http://b" });
  m.secrets.delete(secretKey("b"));
  m.secrets.set(legacyTokenKey("a"), "old");
  assert.deepEqual(await m.store.list(), {
    gateways: [{ name: "a", url: "http://a", token: "x" }],
    missing: ["b"],
  });
  await m.store.remove("a");
  assert.deepEqual(m.store.names(), ["b"]);
  assert.equal(m.secrets.size, 0);
});

Deno.test("migrate() moves the old setting's entries and tokens once, keeps what is stored, skips junk", async () => {
  const m = memory();
  m.secrets.set(legacyTokenKey("plant-a"), "legacy-token");
  await m.store.save({ name: "lab", url: "http://stored:8720", token: "stored" });
  const r = await m.store.migrate([
    { name: "plant-a", url: "http://10.0.0.5:8720" },
    { name: "plant-b", url: "http://10.0.0.6:8720" },
    { name: "lab", url: "http://other:8720" },
    { url: "http://nameless" },
    "junk",
  ]);
  assert.deepEqual(r.moved, ["plant-a", "plant-b"]);
  assert.deepEqual(r.kept, ["lab"]);
  assert.equal(r.skipped.length, 2);
  assert.match(r.skipped[0]!, /^bifrost\.gateways\[3\]: expected \{ "name"/);
  assert.deepEqual((await m.store.list()).gateways, [
    { name: "lab", url: "http://stored:8720", token: "stored" },
    { name: "plant-a", url: "http://10.0.0.5:8720", token: "legacy-token" },
    { name: "plant-b", url: "http://10.0.0.6:8720" },
  ]);
  assert.equal(m.secrets.has(legacyTokenKey("plant-a")), false);
  // A second run finds everything in place and changes nothing.
  const again = await m.store.migrate([{ name: "plant-a", url: "http://changed" }]);
  assert.deepEqual(again, { moved: [], kept: ["plant-a"], skipped: [] });
  assert.equal((await m.store.get("plant-a"))?.url, "http://10.0.0.5:8720");
});
