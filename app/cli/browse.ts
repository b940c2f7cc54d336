/**
 * @module
 * `bifrost browse <url> [--depth N] [--out flows/new.yaml] [--force]`: walks what a device
 * exposes (through the tools of the driver that handles the URL's scheme) and writes a
 * ready-to-edit flow: the device, its tags, and commented-out candidates. Without `--out`
 * the flow goes to stdout; an existing file is never overwritten without `--force`.
 */

import { BifrostError } from "../../engine/errors.ts";
import { durationOption, integerOption, parseCli, UsageError, withUsage } from "./_args.ts";
import { toolsForUrl } from "./_tools.ts";
import { draftYaml } from "./_draft_yaml.ts";

/** Usage of `bifrost browse`. */
export const BROWSE_USAGE =
  "Usage: bifrost browse <url> [--depth 2] [--out flows/new.yaml] [--force] [--timeout 60s]";

/** Runs `bifrost browse`; returns the exit code. */
export function browseCommand(args: string[]): Promise<number> {
  return withUsage(BROWSE_USAGE, async () => {
    const { values, positionals } = parseCli(args, {
      depth: { type: "string" },
      out: { type: "string" },
      force: { type: "boolean" },
      timeout: { type: "string" },
    });
    if (values.help) {
      console.log(BROWSE_USAGE);
      return 0;
    }
    const [url, ...rest] = positionals;
    if (!url) throw new UsageError("Missing the device URL");
    if (rest.length > 0) throw new UsageError(`Unexpected argument "${rest[0]}"`);
    const depth = integerOption("depth", values.depth ?? "2", 1, 10);
    const timeoutMs = durationOption("timeout", values.timeout ?? "60s");
    const tools = toolsForUrl(url, "browse");
    if (!tools.browse) {
      throw new BifrostError(
        "CONFIG_INVALID",
        `Cannot browse "${url}": the ${tools.name} driver cannot browse; it offers ${
          [
            tools.discover ? `discover ${tools.name}` : "",
            tools.simulator ? `sim ${tools.name}` : "",
          ]
            .filter((x) => x).join(", ") || "read and write"
        }`,
      );
    }
    const out = values.out;
    if (out && !values.force) {
      const exists = await Deno.lstat(out).then(() => true, () => false);
      if (exists) {
        throw new BifrostError(
          "CONFIG_INVALID",
          `Cannot write ${out}: the file exists (use --force to replace it)`,
        );
      }
    }
    const ac = new AbortController();
    const stop = () => ac.abort(new BifrostError("TIMEOUT", "Browse interrupted"));
    Deno.addSignalListener("SIGINT", stop);
    const timer = setTimeout(
      () => ac.abort(new BifrostError("TIMEOUT", `Browse took longer than ${timeoutMs} ms`)),
      timeoutMs,
    );
    let draft;
    try {
      draft = await tools.browse(url, {
        depth,
        signal: ac.signal,
        out: { log: (l) => console.error(l), error: (l) => console.error(l) },
      });
    } finally {
      clearTimeout(timer);
      Deno.removeSignalListener("SIGINT", stop);
    }
    const yaml = draftYaml(draft, `bifrost browse ${url} --depth ${depth}`);
    if (!out) {
      console.log(yaml);
      return 0;
    }
    try {
      await Deno.writeTextFile(out, yaml);
    } catch (e) {
      throw new BifrostError(
        "CONFIG_INVALID",
        `Cannot write ${out}: ${e instanceof Deno.errors.NotFound ? "no such directory" : e}`,
      );
    }
    const tags = draft.devices.reduce((n, d) => n + d.tags.length, 0);
    const candidates = draft.devices.reduce((n, d) => n + d.candidates.length, 0);
    console.log(
      `Wrote ${out}: ${draft.devices.length} device(s), ${tags} tag(s), ${candidates} commented candidate(s). Check it with: bifrost check ${
        out.includes("/") ? out.slice(0, out.lastIndexOf("/") + 1) : "."
      }`,
    );
    return 0;
  });
}
