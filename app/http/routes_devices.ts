/**
 * @module
 * Routes of devices and tags: health of each device, every tag with its last value, and
 * on-demand reads (`POST /read`), which go through the device's runtime (its connection and
 * in-flight limit) and come back scaled like polled values.
 */

import type { Context } from "hono";
import { kindOf, type TagConfig } from "../../engine/driver.ts";
import type { DeviceRuntime } from "../../engine/runtime/device.ts";
import type { Value } from "../../engine/record.ts";
import { scaleValue } from "../../engine/scaling.ts";
import type { ApiContext, Route } from "./context.ts";
import { ApiError } from "./errors.ts";
import { toJson } from "./json.ts";
import { parseBody, parseQuery, type RouteDef } from "./openapi.ts";
import {
  DeviceSchema,
  DevicesSchema,
  type ReadItem,
  ReadItemSchema,
  ReadRequestSchema,
  ReadResponseSchema,
  TagSchema,
  TagsQuerySchema,
  TagsSchema,
} from "./schemas.ts";

/** A device of the running flows, or a 404 naming it. */
export function deviceOf(ctx: ApiContext, name: string, field?: string): DeviceRuntime {
  const d = ctx.gateway.devices.get(name);
  if (!d) {
    const known = [...ctx.gateway.devices.keys()].slice(0, 10).join(", ");
    throw new ApiError(404, "NOT_FOUND", `Unknown device "${name}" (devices: ${known})`, {
      ...(field ? { field } : {}),
    });
  }
  return d;
}

/** A tag of a device, or a 404 naming both. */
export function tagOf(d: DeviceRuntime, name: string, field?: string): TagConfig {
  const t = d.config.tags.get(name);
  if (!t) {
    throw new ApiError(404, "NOT_FOUND", `Unknown tag "${name}" on device "${d.name}"`, {
      ...(field ? { field } : {}),
    });
  }
  return t;
}

function deviceJson(d: DeviceRuntime): Record<string, unknown> {
  const h = d.health();
  return { name: d.name, driver: d.config.driver, ...h, tags: d.config.tags.size };
}

function tagJson(ctx: ApiContext, d: DeviceRuntime, t: TagConfig): Record<string, unknown> {
  const module = ctx.drivers.find((m) => m.name === d.config.driver);
  const o: Record<string, unknown> = {
    device: d.name,
    name: t.name,
    type: t.type,
    writable: t.writable,
  };
  const kind = t.kind ?? (module ? kindOf(t, module) : undefined);
  if (kind !== undefined) o.kind = kind;
  if (t.unit !== undefined) o.unit = t.unit;
  if (t.description !== undefined) o.description = t.description;
  const last = ctx.lastValues.get(d.name, t.name);
  if (last) {
    o.value = toJson(last.value);
    o.quality = last.quality;
    if (last.reason !== undefined) o.reason = last.reason;
    o.sourceTs = last.sourceTs;
    o.gatewayTs = last.gatewayTs;
  }
  return o;
}

/**
 * Reads one tag now through the device's runtime, as `POST /read` does: the engineering
 * value; throws the device's error (a trigger's `ctx.read`).
 */
export async function readOne(ctx: ApiContext, device: string, tag: string): Promise<Value> {
  const d = deviceOf(ctx, device, "/device");
  const t = tagOf(d, tag, "/tag");
  const [r] = await d.read(d.plan([t]));
  if (!r) throw new ApiError(502, "PROTOCOL_ERROR", `No answer for "${device}/${tag}"`);
  if (!r.ok) throw r.error;
  return t.scale ? scaleValue(r.value, t.scale) : r.value;
}

async function read(c: Context, ctx: ApiContext): Promise<Response> {
  const { items, list } = await parseBody<ReadItem>(c.req.raw, readRoute.def);
  // Every name checked before anything is read.
  const targets = items.map((it, i) => {
    const at = list ? `/${i}` : "";
    const d = deviceOf(ctx, it.device, `${at}/device`);
    return { d, t: tagOf(d, it.tag, `${at}/tag`) };
  });
  // One plan per device: its tags read together, as a poll would.
  const byDevice = new Map<DeviceRuntime, number[]>();
  targets.forEach((x, i) => byDevice.set(x.d, [...(byDevice.get(x.d) ?? []), i]));
  const results: Record<string, unknown>[] = new Array(targets.length);
  await Promise.all([...byDevice].map(async ([d, idx]) => {
    const tags = idx.map((i) => targets[i]!.t);
    const out = await d.read(d.plan(tags));
    const ts = ctx.clock.now();
    out.forEach((r, k) => {
      const t = tags[k]!;
      const base = { device: d.name, tag: t.name, ts };
      results[idx[k]!] = r.ok
        ? {
          ...base,
          ok: true,
          value: toJson(t.scale ? scaleValue(r.value, t.scale) : r.value),
          quality: r.uncertain === undefined ? "good" : "uncertain",
          ...(r.uncertain === undefined ? {} : { reason: r.uncertain }),
          ...(r.sourceTs === undefined ? {} : { ts: r.sourceTs }),
        }
        : {
          ...base,
          ok: false,
          quality: "bad",
          error: { code: r.error.code, message: r.error.message },
        };
    });
  }));
  return c.json({ results });
}

/** `POST /read`: the route object, referenced by its handler for its schema. */
const readRoute: Route = {
  def: {
    method: "post",
    path: "/read",
    summary: "Read tags now, from the devices (one {device, tag} or a list)",
    scope: "read",
    body: ReadItemSchema,
    list: true,
    bodyDoc: ReadRequestSchema,
    response: ReadResponseSchema,
    errors: [400, 404],
  },
  handle: read,
};

const tagsDef: RouteDef = {
  method: "get",
  path: "/tags",
  summary: "Every tag with its last value, quality and timestamps",
  scope: "read",
  query: TagsQuerySchema,
  response: TagsSchema,
  errors: [400, 404],
};

/** The routes of devices, tags and reads. */
export const deviceRoutes: Route[] = [
  {
    def: {
      method: "get",
      path: "/devices",
      summary: "Every device with its health",
      scope: "read",
      response: DevicesSchema,
      errors: [],
    },
    handle: (c, ctx) => c.json({ devices: [...ctx.gateway.devices.values()].map(deviceJson) }),
  },
  {
    def: {
      method: "get",
      path: "/devices/:device",
      summary: "One device with its health",
      scope: "read",
      response: DeviceSchema,
      errors: [404],
    },
    handle: (c, ctx) => c.json(deviceJson(deviceOf(ctx, c.req.param("device")!))),
  },
  {
    def: tagsDef,
    handle: (c, ctx) => {
      const q = parseQuery<{ device?: string }>(c.req.url, tagsDef);
      const devices = q.device !== undefined
        ? [deviceOf(ctx, q.device, "query.device")]
        : [...ctx.gateway.devices.values()];
      return c.json({
        tags: devices.flatMap((d) => [...d.config.tags.values()].map((t) => tagJson(ctx, d, t))),
      });
    },
  },
  {
    def: {
      method: "get",
      path: "/tags/:device/:tag",
      summary: "One tag with its last value",
      scope: "read",
      response: TagSchema,
      errors: [404],
    },
    handle: (c, ctx) => {
      const d = deviceOf(ctx, c.req.param("device")!);
      return c.json(tagJson(ctx, d, tagOf(d, c.req.param("tag")!)));
    },
  },
  readRoute,
];
