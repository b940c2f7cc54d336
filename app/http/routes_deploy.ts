/**
 * @module
 * `GET /api/v1/deploy`: the git deployment of a gateway run with `--git` (the running commit,
 * the last fetch, the last new revision and what became of it, with its errors), and the
 * OpenAPI description of `POST /hooks/deploy`, the webhook served beside the API
 * (`app/deploy/webhook.ts`). Without `--git` the route answers 404 saying so.
 */

import { Type } from "@sinclair/typebox";
import type { DeploySource, Route } from "./context.ts";
import { ApiError } from "./errors.ts";
import type { RouteDef } from "./openapi.ts";

export type { DeploySource };

/** The deploy status. */
export const DeploySchema = Type.Object({
  repository: Type.String({ description: "The flow repository (credentials removed)" }),
  ref: Type.String({ description: "The deployed branch or tag" }),
  path: Type.String({ description: "The flow directory inside the repository" }),
  everyMs: Type.Integer({ description: "Fetch interval" }),
  commit: Type.Optional(Type.String({ description: "The commit running now" })),
  appliedAt: Type.Optional(Type.Number({ description: "When it was applied, ms since epoch" })),
  signer: Type.Optional(Type.String({ description: "Fingerprint of the key that signed it" })),
  lastFetch: Type.Optional(Type.Object({
    at: Type.Number(),
    ok: Type.Boolean(),
    commit: Type.Optional(Type.String()),
    error: Type.Optional(Type.String({ description: "Why the fetch failed" })),
  })),
  lastAttempt: Type.Optional(Type.Object({
    commit: Type.String(),
    at: Type.Number(),
    result: Type.Union([
      Type.Literal("applied"),
      Type.Literal("unchanged"),
      Type.Literal("rejected"),
      Type.Literal("rolled-back"),
    ]),
    errors: Type.Array(Type.String(), {
      description: "Why it was refused: `file:line:column error: …` relative to the repository",
    }),
  })),
  counters: Type.Object({
    fetches: Type.Integer(),
    fetchErrors: Type.Integer(),
    applied: Type.Integer(),
    rejected: Type.Integer(),
    rolledBack: Type.Integer(),
  }),
});

const deployDef: RouteDef = {
  method: "get",
  path: "/deploy",
  summary: "Git deployment: running commit, last fetch, last revision tried (with --git)",
  scope: "read",
  response: DeploySchema,
  errors: [404],
};

/** The deploy route. */
export const deployRoutes: readonly Route[] = [{
  def: deployDef,
  handle: (c, ctx) => {
    if (!ctx.deploy) {
      throw new ApiError(404, "NOT_FOUND", "This gateway does not deploy from git (run --git)");
    }
    return c.json(ctx.deploy.status());
  },
}];

/** The OpenAPI path item of `POST /hooks/deploy`. */
export const DEPLOY_HOOK_DOC = {
  post: {
    operationId: "postHooksDeploy",
    summary: "Deploy webhook of a git server: fetch and apply the flow repository now",
    parameters: [],
    description: "Served with `--git` and `--hook-secret-file`. Authenticated by the shared " +
      "secret, not by API tokens: `X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body>` " +
      "(GitHub, Gitea), `X-Gitea-Signature: <hex HMAC>` (Gitea, Gogs) or " +
      "`X-Gitlab-Token: <secret>` (GitLab). A push to another ref (the body's `ref`) is ignored.",
    requestBody: {
      required: false,
      content: { "application/json": { schema: { type: "object" } } },
    },
    responses: {
      200: {
        description: "Ignored: a push to another ref, or a ping",
        content: { "application/json": { schema: { type: "object" } } },
      },
      202: {
        description: "A deploy cycle starts",
        content: { "application/json": { schema: { type: "object" } } },
      },
      401: { description: "Missing or wrong signature or token" },
      404: { description: "Not deploying from git, or no --hook-secret-file" },
      413: { description: "Body over 5 MB" },
      429: { description: "Too many failed attempts from this address" },
    },
    security: [],
  },
} as const;
