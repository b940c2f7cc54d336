/**
 * @module
 * The deploy families of `GET /metrics` (with `--git`):
 *
 * - `bifrost_deploy_info{revision,ref,repository}`: 1, the running commit as a label;
 * - `bifrost_deploy_applied_timestamp_seconds`: when it was applied;
 * - `bifrost_deploy_last_fetch_success`: 1 when the last fetch worked, 0 otherwise;
 * - `bifrost_deploy_last_attempt_success`: 1 unless the last new revision was refused;
 * - `bifrost_deploy_fetches_total`, `bifrost_deploy_fetch_errors_total`,
 *   `bifrost_deploy_applied_total`, `bifrost_deploy_rejected_total`,
 *   `bifrost_deploy_rolled_back_total`;
 * - `bifrost_deploy_webhooks_total{result=accepted|ignored|unauthorized|rate_limited}`.
 */

import type { Exposition } from "../http/_exposition.ts";
import type { Deployer } from "./deployer.ts";
import type { HookCounters } from "./webhook.ts";

/** Adds the deploy families to an exposition. */
export function deployMetrics(
  deployer: Deployer,
  hooks: HookCounters,
): (x: Exposition) => void {
  return (x) => {
    const s = deployer.status();
    x.sample("bifrost_deploy_info", "gauge", "The running revision of the flow repository.", {
      revision: s.commit ?? "",
      ref: s.ref,
      repository: s.repository,
    }, 1);
    x.sample(
      "bifrost_deploy_applied_timestamp_seconds",
      "gauge",
      "When the running revision was applied, seconds since the epoch.",
      {},
      (s.appliedAt ?? 0) / 1000,
    );
    x.sample(
      "bifrost_deploy_last_fetch_success",
      "gauge",
      "1 when the last fetch of the flow repository worked.",
      {},
      +(s.lastFetch?.ok ?? false),
    );
    x.sample(
      "bifrost_deploy_last_attempt_success",
      "gauge",
      "0 when the last new revision was rejected or rolled back.",
      {},
      +(s.lastAttempt === undefined || s.lastAttempt.result === "applied" ||
        s.lastAttempt.result === "unchanged"),
    );
    const c = s.counters;
    const counters: [string, string, number][] = [
      ["bifrost_deploy_fetches_total", "Fetches of the flow repository.", c.fetches],
      ["bifrost_deploy_fetch_errors_total", "Fetches that failed.", c.fetchErrors],
      ["bifrost_deploy_applied_total", "New revisions applied.", c.applied],
      ["bifrost_deploy_rejected_total", "New revisions refused before applying.", c.rejected],
      [
        "bifrost_deploy_rolled_back_total",
        "New revisions applied, then rolled back (applied in part, or required devices down).",
        c.rolledBack,
      ],
    ];
    for (const [name, help, v] of counters) x.sample(name, "counter", help, {}, v);
    const help = "Deploy webhook requests by outcome.";
    for (
      const [result, v] of [
        ["accepted", hooks.accepted],
        ["ignored", hooks.ignored],
        ["unauthorized", hooks.unauthorized],
        ["rate_limited", hooks.rateLimited],
      ] as const
    ) x.sample("bifrost_deploy_webhooks_total", "counter", help, { result }, v);
  };
}
