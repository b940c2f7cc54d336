/**
 * @module
 * `bifrost run <dir>`: runs the flows until SIGINT or SIGTERM, then stops cleanly (polls
 * stop, queues drain, sinks flush, connections close). A second signal exits at once.
 *
 * Start-up is arranged for a fast first value: the flows are validated in a child process
 * (see `_load.ts`) while this process loads the runtime modules; only these stay resident.
 *
 * The flow directory is watched (and SIGHUP reloads): a valid change is applied live as a
 * diff, an invalid one is rejected with its errors and the running flows carry on (see
 * `app/supervisor.ts`). Reloads validate in this process, with a per-file cache warmed
 * right after start so that the first change already re-parses only its own file: the
 * YAML parser, the schema validators and the cache then stay resident: about 1 KB of heap per
 * tag (132 MB at 100,000 tags, measured), the price of fast reloads. `--no-reload` runs the
 * flows as loaded and keeps all of it out of the process.
 *
 * `--git URL --ref REF --path DIR --every 60s` takes the flows from a git repository instead
 * of a directory: fetched every interval (and on `POST /hooks/deploy`), each new commit
 * validated and applied as a live reload, rolled back when it fails (see `app/deploy/`,
 * loaded only with `--git`).
 *
 * `BIFROST_STATS_EVERY=60s` in the environment logs a "Process stats" line (RSS, heap,
 * records produced) per interval and a last one, with every device's sequence range, after
 * a clean stop (see `runtime/process_stats.ts`).
 */

import { errorMessage } from "../../engine/errors.ts";
import { createLogger, type LogLevel, LogLevels } from "../../engine/log.ts";
import { parseCli, UsageError, withUsage } from "./_args.ts";
import { type GitRun, parseGitOptions, prepareGitRun } from "./_run_git.ts";
import { functionFiles, markFunctionSources } from "../function_sources.ts";
import { systemClock } from "../../engine/clock.ts";
import {
  parseStatsEvery,
  processStats,
  startProcessStats,
  STATS_EVERY_ENV,
} from "../../engine/runtime/process_stats.ts";
import { flowsChanged, loadIsolated } from "./_load.ts";
import { DEFAULT_LISTEN, type Listen, parseListen } from "../http/listen.ts";
import type { HttpServer } from "../http/serve.ts";
import type { LiveParts } from "../http/parts.ts";
import type { Logger } from "../../engine/log.ts";
import type { LoadResult } from "../../engine/flow/load.ts";
import type { FlowFileCache } from "../../engine/flow/mod.ts";
import type { FlowSet } from "../../engine/flow/types.ts";
import type { ReloadTarget, Supervisor } from "../supervisor.ts";

function httpListen(text: string): Listen {
  try {
    return parseListen(text);
  } catch (e) {
    throw new UsageError(errorMessage(e));
  }
}

/** Usage of `bifrost run`. */
export const RUN_USAGE =
  "Usage: bifrost run <flow-dir> [--simulate] [--data-dir data] [--log-level debug|info|warn|error]\n" +
  "         [--no-reload] [--http HOST:PORT | --no-http] [--tokens FILE]\n" +
  "         [--tls-cert FILE --tls-key FILE] [--cors ORIGIN]\n" +
  "         (API on 127.0.0.1:8720 by default; tokens also from BIFROST_API_TOKENS)\n" +
  "       bifrost run --git URL [--ref main] [--path .] [--every 60s] [--deploy-timeout 30s]\n" +
  "         [--verify-keys FILE] [--hook-secret-file FILE] [the options above]\n" +
  "         (flows from a git repository, cloned into <data-dir>/git, new commits applied live)";

/** Runs the gateway; returns the exit code. */
export function runGatewayCommand(args: string[]): Promise<number> {
  return withUsage(RUN_USAGE, () => run(args));
}

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCli(args, {
    simulate: { type: "boolean", default: false },
    "data-dir": { type: "string", default: "data" },
    "log-level": { type: "string" },
    http: { type: "string" },
    "no-http": { type: "boolean", default: false },
    tokens: { type: "string" },
    "tls-cert": { type: "string" },
    "tls-key": { type: "string" },
    cors: { type: "string", multiple: true },
    "no-reload": { type: "boolean", default: false },
    git: { type: "string" },
    ref: { type: "string" },
    path: { type: "string" },
    every: { type: "string" },
    "deploy-timeout": { type: "string" },
    "verify-keys": { type: "string" },
    "hook-secret-file": { type: "string" },
  });
  if (values.help) {
    console.log(RUN_USAGE);
    return 0;
  }
  const gitOptions = parseGitOptions(values, positionals);
  if (gitOptions?.hookSecretFile !== undefined && values["no-http"]) {
    throw new UsageError(
      "Cannot use --hook-secret-file with --no-http: the webhook is served by the API",
    );
  }
  if (!gitOptions) {
    if (positionals.length === 0) throw new UsageError("Missing the flow directory");
    if (positionals.length > 1) throw new UsageError(`Unexpected argument "${positionals[1]}"`);
  }
  const level = values["log-level"];
  if (level !== undefined && !(level in LogLevels)) {
    throw new UsageError(
      `Cannot use --log-level "${level}": expected ${Object.keys(LogLevels).join(", ")}`,
    );
  }
  if (values["no-http"] && values.http !== undefined) {
    throw new UsageError("Cannot use --http with --no-http");
  }
  // Checked before the flows load: a bad address is a usage error, not a failed start.
  const listen = values["no-http"] ? undefined : httpListen(values.http ?? DEFAULT_LISTEN);
  let statsEvery: number | undefined;
  try {
    statsEvery = parseStatsEvery(Deno.env.get(STATS_EVERY_ENV));
  } catch (e) {
    createLogger().error(errorMessage(e));
    return 1;
  }
  let secrets: string[] = [];
  // A token in the repository URL (https://user:token@host/…) never reaches a log line.
  const urlSecrets = /^[a-z][a-z0-9+.-]*:\/\/[^/@:]*:([^/@]+)@/i.exec(gitOptions?.url ?? "");
  const log = createLogger({
    ...(values["log-level"] ? { level: values["log-level"] as LogLevel } : {}),
    redact: () => urlSecrets ? [urlSecrets[1]!, ...secrets] : secrets,
  });
  // With --git: the deploy modules load (only then), the repository is fetched, and the
  // flows come from the revision to start with.
  const stopGit = new AbortController();
  let git: GitRun | undefined;
  if (gitOptions) {
    git = await prepareGitRun(gitOptions, values["data-dir"], log, stopGit.signal);
    if (!git) return 1;
  }
  const flowDir = git ? git.prepared.flowDir : positionals[0]!;
  // The HTTP modules load only when the API is on: `--no-http` keeps them out of memory.
  // Only the drivers, steps and sinks the flows name are imported (`app/sources.ts`).
  const [loaded, { Gateway }, { addModulesOf, emptySources }, httpModules] = await Promise.all([
    loadIsolated(flowDir),
    import("../../engine/runtime/gateway.ts"),
    import("../sources.ts"),
    listen
      ? Promise.all([
        import("../http/serve.ts"),
        import("../http/auth.ts"),
        import("../http/parts.ts"),
      ])
      : undefined,
  ]);
  if (!loaded) {
    if (git) log.error("The revision to start with is invalid: nothing started", git.where);
    return 1;
  }
  secrets = loaded.secrets;
  // A function step is also changed by its code: reloads compare fingerprints of it.
  if (!values["no-reload"]) await markFunctionSources(loaded.flows);
  // Filled by the gateway's start (and each revision) with what the flows name.
  const sources = emptySources();
  const gateway = new Gateway(loaded.flows, {
    sources,
    prepare: (flows) => addModulesOf(flows, sources),
    log,
    simulate: values.simulate,
    dataDir: values["data-dir"],
  });
  // The API listens before anything starts: a port in use or missing tokens stop the run
  // at once, with nothing to undo.
  let http: HttpServer | undefined;
  let parts: LiveParts | undefined;
  const triggers = loaded.flows.triggers?.size ?? 0;
  if (!listen && triggers > 0) {
    log.warn(`The flows declare ${triggers} trigger(s); with --no-http none of them runs`);
  }
  if (listen && httpModules) {
    const [serve, { TOKENS_ENV }, live] = httpModules;
    try {
      http = await serve.startHttp(gateway, {
        listen,
        ...(values.tokens === undefined ? {} : { tokensFile: values.tokens }),
        ...(Deno.env.get(TOKENS_ENV) === undefined ? {} : { tokensEnv: Deno.env.get(TOKENS_ENV)! }),
        ...(values["tls-cert"] === undefined ? {} : { tlsCert: values["tls-cert"] }),
        ...(values["tls-key"] === undefined ? {} : { tlsKey: values["tls-key"] }),
        ...(values.cors === undefined ? {} : { corsOrigins: values.cors }),
        ...(git ? { deploy: git.prepared.deployer } : {}),
        dataDir: values["data-dir"],
        drivers: sources.drivers,
        log,
        // /metrics, /healthz, /readyz and the WebSocket, beside the API (and the deploy
        // webhook, before any trigger).
        // The triggers' figures join /metrics once the server (which runs them) is up.
        mount: (parts = live.liveParts(gateway, Date.now(), {
          mount: git?.http.mount ?? [],
          metrics: (x) => {
            git?.http.metrics(x);
            http?.metrics(x);
          },
        })).mount,
      });
    } catch (e) {
      parts?.close();
      log.error("Cannot start the HTTP API", { error: errorMessage(e) });
      return 1;
    }
  }
  try {
    await gateway.start();
  } catch (e) {
    log.error("Cannot start the gateway", { error: errorMessage(e) });
    parts?.close();
    await http?.close();
    return 1;
  }
  const stats = statsEvery === undefined ? undefined : startProcessStats({
    everyMs: statsEvery,
    log,
    clock: systemClock,
    records: () => gateway.recordsProduced(),
  });
  const stopped = Promise.withResolvers<void>();
  let firstSignalAt: number | undefined;
  const onSignal = () => {
    const now = performance.now();
    if (firstSignalAt === undefined) {
      firstSignalAt = now;
      log.info("Stopping");
      stopped.resolve();
      return;
    }
    // Ctrl-C reaches every process of the terminal's group, and launchers (npx, deno task)
    // forward it as well: copies within a second are the same request.
    if (now - firstSignalAt < 1000) return;
    log.warn("Second signal: exiting without a clean stop");
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  // After the signal listeners: a Ctrl-C while the watch starts is still a clean stop.
  const supervisor = values["no-reload"] ? undefined : await startSupervisor(
    flowDir,
    gateway,
    log,
    (r) => {
      secrets = r.secrets;
      // Triggers follow the revision too (kept, started, replaced or stopped by name).
      if (r.flows && http) {
        void http.applyFlows(r.flows).catch((e) =>
          log.error("Cannot apply the triggers of the new flows", { error: errorMessage(e) })
        );
      }
    },
    !git,
  );
  if (supervisor) http?.setReload(supervisor);
  // With --git, SIGHUP fetches now (as the webhook does).
  const onHup = () => git?.prepared.deployer.trigger();
  if (git) {
    await git.prepared.started(Date.now());
    if (supervisor) {
      git.prepared.deployer.start(gateway, supervisor, git.prepared.pending);
      Deno.addSignalListener("SIGHUP", onHup);
    } else log.warn("With --no-reload new revisions are not applied: restart to deploy them");
  }
  await stopped.promise;
  if (git && supervisor) Deno.removeSignalListener("SIGHUP", onHup);
  stopGit.abort();
  await git?.prepared.deployer.close();
  await supervisor?.close({ wait: false });
  parts?.close();
  await http?.close();
  await gateway.stop();
  if (stats) {
    stats.stop();
    // What every device produced, for whoever checks the sinks against it (the soak test).
    log.info("Process stats", {
      ...processStats(gateway.recordsProduced()),
      final: true,
      sequences: gateway.sequences(),
    });
  }
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
  return 0;
}

/** Watches `dir` and applies its valid changes to `gateway` (see `app/supervisor.ts`). */
async function startSupervisor(
  dir: string,
  gateway: ReloadTarget & { readonly flows: FlowSet },
  log: Logger,
  onApplied: (r: LoadResult) => void,
  watch: boolean,
): Promise<Supervisor> {
  const [{ registries }, { Supervisor }] = await Promise.all([
    import("../registries.ts"),
    import("../supervisor.ts"),
  ]);
  const env = Deno.env.toObject();
  // The loader (YAML parser, schema compiler, file cache) loads with the first change.
  let cache: FlowFileCache | undefined;
  const validate = async (d: string) => {
    const { FlowFileCache, loadFlows } = await import("../../engine/flow/mod.ts");
    cache ??= new FlowFileCache();
    const r = await loadFlows(d, { env, sources: registries, typeCheck: false, cache });
    if (r.flows) await markFunctionSources(r.flows);
    return r;
  };
  const supervisor = new Supervisor({
    dir,
    gateway,
    validate,
    log,
    clock: systemClock,
    onApplied,
    // Saving a function restarts its step: the directories of the running functions are
    // watched too.
    codePaths: () => functionFiles(gateway.flows),
  });
  // With --git the deployer drives the reloads: nothing to watch.
  if (!watch) return supervisor;
  await supervisor.start({ signals: true });
  // A change made between the child's validation and the start of the watch is caught by
  // asking a child again: validating here would keep the parser, the schema compiler and
  // the file cache resident (about 12 MB for the demo) in a gateway whose flows may never
  // change. The first reload therefore parses every file; later ones only the changed file.
  void flowsChanged(dir, gateway.flows).then((changed) => {
    // A reload attempted since the watch started has validated the directory already.
    if (changed && supervisor.status().attemptedAt === undefined) {
      void supervisor.reload("start", true);
    }
  }, () => {});
  return supervisor;
}
