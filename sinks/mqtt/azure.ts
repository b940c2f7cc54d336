/**
 * @module
 * What Azure IoT Hub expects of a device speaking MQTT 3.1.1: the user name
 * `<hub host>/<device id>/?api-version=…`, a shared access signature (SAS) as password,
 * signed with the device key (HMAC-SHA256, Web Crypto), and the device-to-cloud topic
 * `devices/<device id>/messages/events/` followed by a property bag. All pure functions.
 *
 * The property bag carries the record's device and tag (the payload does not) and marks
 * the body as UTF-8 JSON (`$.ct`, `$.ce`), so IoT Hub message routing can query the body.
 */

import type { TopicFn } from "./format.ts";

/** The IoT Hub MQTT API version the user name announces. */
export const AZURE_API_VERSION = "2021-04-12";

/** `encodeURIComponent` plus the characters it leaves (`!'()*`), as the Azure SDKs encode. */
export function encodeStrict(s: string): string {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase(),
  );
}

/** The MQTT user name of a device. */
export function azureUsername(
  hostName: string,
  deviceId: string,
  apiVersion = AZURE_API_VERSION,
): string {
  return `${hostName}/${deviceId}/?api-version=${apiVersion}`;
}

/** The resource URI a device token is scoped to: `<hub host>/devices/<device id>`. */
export function azureResourceUri(hostName: string, deviceId: string): string {
  return `${hostName}/devices/${deviceId}`;
}

function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function toBase64(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** Whether `key` is a non-empty base64 string (an IoT Hub device key). */
export function isBase64Key(key: string): boolean {
  if (key.length === 0 || key.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(key)) {
    return false;
  }
  try {
    return fromBase64(key).length > 0;
  } catch {
    return false;
  }
}

/**
 * A SAS token: `SharedAccessSignature sr=<uri>&sig=<signature>&se=<expiry>`, where the
 * signature is base64(HMAC-SHA256(base64-decoded key, `<uri>\n<expiry>`)), `<uri>` the
 * URL-encoded resource URI and `<expiry>` seconds since the epoch.
 *
 * @example
 * ```ts
 * const token = await azureSasToken(
 *   azureResourceUri("myhub.azure-devices.net", "press-3"),
 *   Deno.env.get("AZURE_DEVICE_KEY")!,
 *   Math.floor(Date.now() / 1000) + 3600,
 * );
 * ```
 */
export async function azureSasToken(
  resourceUri: string,
  deviceKey: string,
  expirySeconds: number,
): Promise<string> {
  const sr = encodeStrict(resourceUri);
  const key = await crypto.subtle.importKey(
    "raw",
    fromBase64(deviceKey) as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign(
    "HMAC",
    key,
    new TextEncoder().encode(`${sr}\n${expirySeconds}`),
  );
  const sig = encodeStrict(toBase64(new Uint8Array(mac)));
  return `SharedAccessSignature sr=${sr}&sig=${sig}&se=${expirySeconds}`;
}

/** The device-to-cloud topic prefix of a device. */
export function azureEventsTopic(deviceId: string): string {
  return `devices/${deviceId}/messages/events/`;
}

/**
 * The topic of a record: `devices/<id>/messages/events/$.ct=application%2Fjson&$.ce=utf-8&device=<d>&tag=<t>`
 * (property values URL-encoded). Cached per device and tag.
 */
export function azureTopic(deviceId: string): TopicFn {
  const prefix = `${azureEventsTopic(deviceId)}$.ct=application%2Fjson&$.ce=utf-8`;
  const cache = new Map<string, string>();
  return (device, tag) => {
    const k = `${device}\u0000${tag}`;
    let t = cache.get(k);
    if (t === undefined) {
      t = `${prefix}&device=${encodeStrict(device)}&tag=${encodeStrict(tag)}`;
      if (cache.size < 100_000) cache.set(k, t);
    }
    return t;
  };
}
