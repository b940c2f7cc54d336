/**
 * @module
 * The route table: each API route declared once with its method, path, scope and TypeBox
 * schemas. {@linkcode parseBody} and {@linkcode parseQuery} validate requests against the same
 * schemas that {@linkcode openApiDocument} publishes as OpenAPI 3.1 (whose schema dialect is
 * JSON Schema 2020-12, which TypeBox emits).
 */

import type { TObject, TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { VERSION } from "../../engine/version.ts";
import type { Scope } from "./auth.ts";
import { ApiError } from "./errors.ts";
import { ErrorSchema } from "./schemas.ts";

/** One route of the API. */
export interface RouteDef {
  method: "get" | "post";
  /** Path under the API's base, in Hono's syntax (`/devices/:name`). */
  path: string;
  summary: string;
  scope: Scope;
  query?: TObject;
  /** The request body: one item, or (with `list`) one item or a list of them. */
  body?: TObject;
  list?: boolean;
  /** The body the schema of the OpenAPI document shows (the union for list routes). */
  bodyDoc?: TSchema;
  response: TSchema;
  /** Error statuses the route may answer besides 401, 403 and 429. */
  errors: number[];
}

function issue(schema: TSchema, value: unknown, where: string): ApiError | undefined {
  const first = Value.Errors(schema, value).First();
  if (!first) return undefined;
  const field = where === "query." ? `query.${first.path.slice(1)}` : `${where}${first.path}`;
  const seen = first.value === undefined ? "missing" : JSON.stringify(first.value);
  return new ApiError(
    400,
    "BAD_REQUEST",
    `Invalid ${field || "body"}: ${first.message} (got ${seen})`,
    {
      field: field || "/",
    },
  );
}

/**
 * The request body as JSON, checked against the route's item schema; a list route returns
 * a list either way. Throws a 400 {@linkcode ApiError} naming the field.
 */
export async function parseBody<T>(
  req: Request,
  def: RouteDef,
): Promise<{ items: T[]; list: boolean }> {
  const text = await req.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new ApiError(400, "BAD_REQUEST", `Malformed JSON body: ${(e as Error).message}`);
  }
  const items = def.list && Array.isArray(body) ? body : [body];
  if (def.list && Array.isArray(body) && body.length === 0) {
    throw new ApiError(400, "BAD_REQUEST", "Empty list: give at least one item", { field: "/" });
  }
  for (const [i, item] of items.entries()) {
    const e = issue(def.body!, item, Array.isArray(body) ? `/${i}` : "");
    if (e) throw e;
  }
  return { items: items as T[], list: Array.isArray(body) };
}

/** The query string checked against the route's schema. */
export function parseQuery<T>(url: string, def: RouteDef): T {
  const q = Object.fromEntries(new URL(url).searchParams);
  if (def.query) {
    const e = issue(def.query, q, "query.");
    if (e) throw e;
  }
  return q as T;
}

function plain(schema: TSchema): unknown {
  return JSON.parse(JSON.stringify(schema));
}

const REASONS: Record<number, string> = {
  400: "Invalid request",
  401: "Missing or unknown token",
  403: "Token lacks the scope, or the tag is not writable",
  404: "Unknown device, tag or sink",
  429: "Too many failed authentications from this address",
  502: "The device answered with an error",
  503: "The device is not connected",
  504: "The device did not answer in time",
};

/** The OpenAPI 3.1 document of `routes`, served under `base`. */
export function openApiDocument(
  routes: readonly RouteDef[],
  base: string,
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const error = {
    content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
  };
  for (const r of routes) {
    const path = base + r.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
    const params: unknown[] = [...r.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => ({
      name: m[1],
      in: "path",
      required: true,
      schema: { type: "string" },
    }));
    for (const [name, s] of Object.entries(r.query?.properties ?? {})) {
      params.push({
        name,
        in: "query",
        required: r.query?.required?.includes(name) ?? false,
        schema: plain(s),
      });
    }
    const responses: Record<string, unknown> = {
      200: { description: "OK", content: { "application/json": { schema: plain(r.response) } } },
    };
    for (const s of [...r.errors, 401, 403, 429]) {
      responses[s] = { description: REASONS[s] ?? "Error", ...error };
    }
    const op: Record<string, unknown> = {
      operationId: `${r.method}${r.path.replace(/[/:]+(\w)/g, (_, c: string) => c.toUpperCase())}`,
      summary: r.summary,
      description: `Needs scope \`${r.scope}\`.`,
      parameters: params,
      responses,
      security: [{ bearer: [r.scope] }],
    };
    if (r.body) {
      op.requestBody = {
        required: true,
        content: { "application/json": { schema: plain(r.bodyDoc ?? r.body) } },
      };
    }
    (paths[path] ??= {})[r.method] = op;
  }
  return {
    openapi: "3.1.0",
    info: { title: "Bifrost gateway API", version: VERSION },
    paths,
    components: {
      schemas: { Error: plain(ErrorSchema) },
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    },
  };
}
