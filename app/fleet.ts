/**
 * @module
 * `bifrost check --fleet <dir>`: the checks across the sites of one flow repository
 * (`docs/fleet.md`), where each site's own flows may be valid and still clash with another
 * site's on a shared broker:
 *
 * - a UNS topic two sites would both publish (`mqtt` sinks on the same broker: every topic
 *   of every device and tag that reaches the sink, rendered from its template);
 * - a Sparkplug edge node (`groupId` + `edgeNode`) two sites would both be;
 * - an MQTT client id two sites would both use (the broker throws the older connection off,
 *   and the two gateways take turns forever); a default client id derived from the host
 *   name (`bifrost-<host>-<sink>`) is a warning when two sites' sinks share a name, since
 *   gateways on one host, or pods of one name, collide.
 *
 * Each issue is at the later site's sink (`file:line:column`) and names the other one.
 * What a rename step or a function does to tag names is not followed: topics are those of
 * the device tags that feed the sink through polls and steps.
 */

import type { ConfigIssue } from "../engine/flow/issue.ts";
import type { FlowSet, SinkConfig } from "../engine/flow/types.ts";
import { compileTopic } from "../sinks/mqtt/format.ts";

/** One site: its name (folder) and its validated flows. */
export interface FleetSite {
  name: string;
  flows: FlowSet;
}

/** The broker of a URL, for grouping: scheme-less `host:port` (default ports filled in). */
export function brokerKey(url: string): string {
  try {
    const u = new URL(url);
    const port = u.port || (/^(mqtts|ssl|wss)/.test(u.protocol) ? "8883" : "1883");
    return `${u.hostname.toLowerCase()}:${port}`;
  } catch {
    return url;
  }
}

/** Device tags that reach `sink` through its `from` chain (polls, steps, devices). */
function feeding(flows: FlowSet, sink: SinkConfig): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const seen = new Set<string>();
  const add = (device: string, tags: Iterable<string>) => {
    const s = out.get(device) ?? new Set<string>();
    for (const t of tags) s.add(t);
    out.set(device, s);
  };
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const poll = flows.polls.get(name);
    const device = flows.devices.get(poll?.device ?? name);
    if (poll && device) add(device.name, poll.tags === "*" ? device.tags.keys() : poll.tags);
    else if (device) add(device.name, device.tags.keys());
    for (const f of flows.steps.get(name)?.from ?? []) visit(f);
  };
  for (const f of sink.from) visit(f);
  return out;
}

interface Claim {
  site: string;
  sink: SinkConfig;
}

function issue(c: Claim, severity: ConfigIssue["severity"], message: string): ConfigIssue {
  const o = c.sink.origin;
  return {
    file: o.file,
    line: o.line,
    column: o.column,
    path: `/sinks/${c.sink.name}`,
    message,
    severity,
  };
}

const where = (c: Claim) =>
  `sink "${c.sink.name}" of site "${c.site}" (${c.sink.origin.file}:${c.sink.origin.line}:${c.sink.origin.column})`;

/** The issues between sites (none within one site: `bifrost check` of the site does that). */
export function fleetIssues(sites: readonly FleetSite[]): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const topics = new Map<string, Claim>();
  const nodes = new Map<string, Claim>();
  const clients = new Map<string, Claim>();
  const defaults = new Map<string, Claim>();
  for (const site of sites) {
    for (const sink of site.flows.sinks.values()) {
      if (sink.use !== "mqtt" && sink.use !== "sparkplug") continue;
      const c = sink.config as Record<string, unknown>;
      const broker = brokerKey(String(c.url ?? ""));
      const claim = { site: site.name, sink };
      const once = (map: Map<string, Claim>, key: string, what: () => string) => {
        const first = map.get(key);
        if (!first) map.set(key, claim);
        else if (first.site !== site.name) out.push(issue(claim, "error", what() + where(first)));
      };
      const clientId = typeof c.clientId === "string" ? c.clientId : undefined;
      if (sink.use === "sparkplug") {
        const node = `${c.groupId}/${c.edgeNode}`;
        once(
          nodes,
          `${broker} ${node}`,
          () => `Sparkplug edge node "${node}" on ${broker} is also the one of `,
        );
        // A default client id follows the edge node: a clash is the one above.
        if (clientId !== undefined) {
          once(
            clients,
            `${broker} ${clientId}`,
            () => `MQTT client id "${clientId}" on ${broker} is also the one of `,
          );
        }
        continue;
      }
      if (clientId !== undefined) {
        once(
          clients,
          `${broker} ${clientId}`,
          () => `MQTT client id "${clientId}" on ${broker} is also the one of `,
        );
      } else {
        const first = defaults.get(`${broker} ${sink.name}`);
        if (!first) defaults.set(`${broker} ${sink.name}`, claim);
        else if (first.site !== site.name) {
          out.push(issue(
            claim,
            "warning",
            `MQTT client id defaults to "bifrost-<host name>-${sink.name}", as for ` +
              where(first) +
              ": two gateways with one host name collide on the broker; set clientId per site",
          ));
        }
      }
      if (c.preset === "azure-iot-hub") continue;
      let topic: (device: string, tag: string) => string;
      try {
        topic = compileTopic(
          String(c.topic ?? "bifrost/{device}/{tag}"),
          (c.vars ?? {}) as Record<string, string>,
          sink.name,
        );
      } catch {
        continue; // The site's own check reports a bad template.
      }
      let reported = false;
      for (const [device, tags] of feeding(site.flows, sink)) {
        for (const tag of tags) {
          const t = topic(device, tag);
          const first = topics.get(`${broker} ${t}`);
          if (!first) topics.set(`${broker} ${t}`, claim);
          else if (first.site !== site.name && !reported) {
            reported = true; // One line per pair of sinks, not one per tag.
            out.push(issue(
              claim,
              "error",
              `topic "${t}" on ${broker} (device "${device}", tag "${tag}") is also published by ` +
                where(first) +
                ": put the site in the topic (e.g. acme/{site}/{area}/{device}/{tag})",
            ));
          }
        }
      }
    }
  }
  return out;
}

/** The site folders under `dir`: directories (to two levels) that hold flow files. */
export async function findSites(dir: string): Promise<{ name: string; dir: string }[]> {
  const out: { name: string; dir: string }[] = [];
  const walk = async (d: string, rel: string, depth: number) => {
    const entries: Deno.DirEntry[] = [];
    for await (const e of Deno.readDir(d)) entries.push(e);
    entries.sort((a, b) => a.name.localeCompare(b.name));
    if (rel !== "" && entries.some((e) => e.isFile && /\.ya?ml$/i.test(e.name))) {
      out.push({ name: rel, dir: d });
      return;
    }
    if (depth === 0) return;
    for (const e of entries) {
      if (e.isDirectory && !e.name.startsWith(".") && e.name !== "node_modules") {
        await walk(`${d}/${e.name}`, rel === "" ? e.name : `${rel}/${e.name}`, depth - 1);
      }
    }
  };
  await walk(dir.replace(/\/+$/, ""), "", 2);
  return out;
}
