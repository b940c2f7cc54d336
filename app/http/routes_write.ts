/**
 * @module
 * `POST /write`: one `{device, tag, value}` or a list. Every item is checked before anything
 * is written: device and tag known (404), tag `writable` (403), value of the tag's kind (400,
 * through the engine's `parseValue`, as `bifrost write`) and within the tag's declared
 * `min`/`max` (400, in engineering units as the driver's own write check). Then each value
 * goes through the device's runtime and the driver (whose check also refuses what the type
 * cannot hold), and the device's answer is returned. Every attempt is audited.
 *
 * A single write that the device refuses answers with the error's status; a list answers
 * 200 with each item's outcome, since earlier items may already be written.
 */

import type { Context } from "hono";
import { engineeringKind, parseValue } from "../../engine/value.ts";
import { kindOf, type TagConfig, type ValueKind } from "../../engine/driver.ts";
import { errorMessage, isBifrostError } from "../../engine/errors.ts";
import { type DeviceRuntime, notWritable } from "../../engine/runtime/device.ts";
import type { Value } from "../../engine/record.ts";
import type { ApiContext, Route } from "./context.ts";
import { ApiError } from "./errors.ts";
import { toJson } from "./json.ts";
import { parseBody, type RouteDef } from "./openapi.ts";
import { deviceOf, tagOf } from "./routes_devices.ts";
import {
  type WriteItem,
  WriteItemSchema,
  WriteRequestSchema,
  WriteResponseSchema,
} from "./schemas.ts";

const writeDef: RouteDef = {
  method: "post",
  path: "/write",
  summary: "Write tags marked writable (one {device, tag, value} or a list)",
  scope: "write",
  body: WriteItemSchema,
  list: true,
  bodyDoc: WriteRequestSchema,
  response: WriteResponseSchema,
  errors: [400, 404, 502, 503, 504],
};

interface Checked {
  d: DeviceRuntime;
  t: TagConfig;
  value: Value;
}

function kindFor(ctx: ApiContext, d: DeviceRuntime, t: TagConfig): ValueKind {
  const module = ctx.drivers.find((m) => m.name === d.config.driver);
  const kind = t.kind ?? (module ? kindOf(t, module) : "float");
  return engineeringKind(kind, t.scale !== undefined);
}

/** The value of a JSON body for a tag of `kind`; text is parsed as `bifrost write` does. */
function valueFor(kind: ValueKind, v: unknown, t: TagConfig, field: string): Value {
  const text = typeof v === "string" ? v : JSON.stringify(v);
  if ((kind === "string" || kind === "bytes") && typeof v !== "string") {
    throw new ApiError(
      400,
      "CONFIG_INVALID",
      `Cannot write ${text} to "${t.name}": expected text (${kind})`,
      {
        field,
      },
    );
  }
  try {
    return parseValue(kind, text, t.name);
  } catch (e) {
    throw new ApiError(400, "CONFIG_INVALID", errorMessage(e), { field });
  }
}

function checkRange(d: DeviceRuntime, t: TagConfig, value: Value, field: string): void {
  const n = typeof value === "number"
    ? value
    : typeof value === "bigint"
    ? Number(value)
    : undefined;
  if (n === undefined) return;
  const min = typeof t.config.min === "number" ? t.config.min : undefined;
  const max = typeof t.config.max === "number" ? t.config.max : undefined;
  if ((min !== undefined && n < min) || (max !== undefined && n > max)) {
    const range = min !== undefined && max !== undefined
      ? `${min}..${max}`
      : min !== undefined
      ? `at least ${min}`
      : `at most ${max}`;
    throw new ApiError(
      400,
      "WRITE_REJECTED",
      `Cannot write ${String(value)} to "${t.name}" on "${d.name}": the tag takes ${range}`,
      { field },
    );
  }
}

function check(ctx: ApiContext, it: WriteItem, at: string): Checked {
  const d = deviceOf(ctx, it.device, `${at}/device`);
  const t = tagOf(d, it.tag, `${at}/tag`);
  if (!t.writable) {
    throw new ApiError(
      403,
      "WRITE_REJECTED",
      notWritable(d.name, t.name).message,
      { field: `${at}/tag` },
    );
  }
  const value = valueFor(kindFor(ctx, d, t), it.value, t, `${at}/value`);
  checkRange(d, t, value, `${at}/value`);
  return { d, t, value };
}

function audit(
  ctx: ApiContext,
  who: string,
  device: string,
  tag: string,
  newValue: Value,
  e?: unknown,
): void {
  ctx.audit?.record({
    who,
    device,
    tag,
    oldValue: ctx.lastValues.get(device, tag)?.value,
    newValue,
    result: e === undefined
      ? "ok"
      : e instanceof ApiError || isBifrostError(e)
      ? e.code
      : "INTERNAL",
    ...(e === undefined ? {} : { message: errorMessage(e) }),
  });
}

async function write(c: Context, ctx: ApiContext, who: string): Promise<Response> {
  const { items, list } = await parseBody<WriteItem>(c.req.raw, writeDef);
  const checked: Checked[] = [];
  for (const [i, it] of items.entries()) {
    try {
      checked.push(check(ctx, it, list ? `/${i}` : ""));
    } catch (e) {
      // Refused before anything was sent: audited (who tried what), then nothing is written.
      audit(ctx, who, it.device, it.tag, it.value as Value, e);
      throw e;
    }
  }
  const results: Record<string, unknown>[] = [];
  for (const { d, t, value } of checked) {
    const previous = ctx.lastValues.get(d.name, t.name)?.value;
    const base = {
      device: d.name,
      tag: t.name,
      value: toJson(value),
      ...(previous === undefined ? {} : { previous: toJson(previous) }),
    };
    try {
      await d.write(t, value);
      audit(ctx, who, d.name, t.name, value);
      results.push({ ...base, ok: true });
    } catch (e) {
      audit(ctx, who, d.name, t.name, value, e);
      if (!list) throw e;
      const code = isBifrostError(e) ? e.code : "INTERNAL";
      results.push({ ...base, ok: false, error: { code, message: errorMessage(e) } });
    }
  }
  return c.json({ results });
}

/**
 * Writes one value as the API does (device and tag known, `writable`, kind, range, then the
 * device), audited as `who`: the path of a trigger's `ctx.write` (who = `trigger:<name>`).
 */
export async function writeOne(
  ctx: ApiContext,
  who: string,
  device: string,
  tag: string,
  value: unknown,
): Promise<void> {
  let checked: Checked;
  try {
    checked = check(ctx, { device, tag, value } as WriteItem, "");
  } catch (e) {
    audit(ctx, who, device, tag, value as Value, e);
    throw e;
  }
  const { d, t } = checked;
  try {
    await d.write(t, checked.value);
    audit(ctx, who, d.name, t.name, checked.value);
  } catch (e) {
    audit(ctx, who, d.name, t.name, checked.value, e);
    throw e;
  }
}

/** The write route. */
export const writeRoutes: Route[] = [{ def: writeDef, handle: write }];
