/**
 * @module
 * What can be checked offline of `deploy/`: the systemd unit with `systemd-analyze verify`
 * (where it is installed; its binary path swapped for one that exists) and its hardening
 * keys, the Kubernetes manifests parsed as YAML with their key fields, and the container
 * definition's base image, binary and user.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { ROOT } from "./_cli.ts";

const DEPLOY = join(ROOT, "deploy");

/** The `key=value` lines of a unit file, every value of a repeated key kept. */
function unitKeys(text: string): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    const m = line.match(/^([A-Za-z]+)=(.*)$/);
    if (m) keys.set(m[1]!, [...(keys.get(m[1]!) ?? []), m[2]!]);
  }
  return keys;
}

function which(cmd: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(join(dir, cmd)).isFile) return true;
    } catch { /* not here */ }
  }
  return false;
}

Deno.test("the systemd unit is hardened and runs the binary with its state directory", async () => {
  const text = await Deno.readTextFile(join(DEPLOY, "systemd/bifrost.service"));
  const k = unitKeys(text);
  const one = (key: string) => k.get(key)?.at(-1);
  assert.equal(
    one("ExecStart"),
    "/usr/local/bin/bifrost run /etc/bifrost/flows --data-dir /var/lib/bifrost",
  );
  assert.equal(one("StateDirectory"), "bifrost");
  for (
    const [key, value] of [
      ["DynamicUser", "yes"],
      ["SupplementaryGroups", "dialout"],
      ["NoNewPrivileges", "yes"],
      ["ProtectSystem", "strict"],
      ["ProtectHome", "yes"],
      ["PrivateTmp", "yes"],
      ["RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"],
      ["CapabilityBoundingSet", ""],
      ["DevicePolicy", "closed"],
      ["KillSignal", "SIGTERM"],
    ] as const
  ) assert.equal(one(key), value, key);
  assert.deepEqual(k.get("DeviceAllow"), ["char-ttyS rw", "char-ttyUSB rw", "char-ttyACM rw"]);
});

Deno.test({
  name: which("systemd-analyze")
    ? "systemd-analyze verify accepts the unit"
    : "systemd-analyze verify accepts the unit (skipped: systemd-analyze is not installed)",
  ignore: !which("systemd-analyze"),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const text = await Deno.readTextFile(join(DEPLOY, "systemd/bifrost.service"));
      // verify wants the executable to exist: any will do for the rest of the unit.
      const unit = join(dir, "bifrost.service");
      await Deno.writeTextFile(unit, text.replaceAll("/usr/local/bin/bifrost", Deno.execPath()));
      const r = await new Deno.Command("systemd-analyze", {
        args: ["verify", unit],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const out = new TextDecoder().decode(r.stderr) + new TextDecoder().decode(r.stdout);
      assert.equal(r.code, 0, out);
      assert.equal(out.trim(), "", out);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("the Kubernetes manifests run one gateway per site with its flows from git", async () => {
  const docs = parseAllDocuments(
    await Deno.readTextFile(join(DEPLOY, "kubernetes/gateway.yaml")),
  );
  for (const d of docs) assert.deepEqual(d.errors, []);
  // deno-lint-ignore no-explicit-any
  const objs = docs.map((d) => d.toJS() as any);
  assert.deepEqual(objs.map((o) => o.kind), ["PersistentVolumeClaim", "Deployment", "Service"]);
  const [pvc, dep, svc] = objs;
  assert.equal(dep.apiVersion, "apps/v1");
  assert.equal(dep.spec.replicas, 1);
  assert.equal(dep.spec.strategy.type, "Recreate");
  const pod = dep.spec.template.spec;
  assert.deepEqual(dep.spec.selector.matchLabels, dep.metadata.labels);
  assert.deepEqual(dep.spec.template.metadata.labels, dep.metadata.labels);
  assert.deepEqual(svc.spec.selector, dep.metadata.labels);
  assert.equal(pod.nodeSelector["bifrost/site"], dep.metadata.labels["bifrost/site"]);
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.deepEqual(pod.securityContext.supplementalGroups, [20]);
  // The gateway pulls its flows itself (`run --git`): no git-sync, no init container.
  assert.equal(pod.initContainers, undefined);
  assert.deepEqual(pod.containers.map((c: { name: string }) => c.name), ["gateway"]);
  const [gateway] = pod.containers;
  const args: string[] = gateway.args;
  assert.equal(args[0], "run");
  const opt = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
  assert.match(opt("git")!, /^https:\/\//);
  assert.equal(opt("path"), `sites/${dep.metadata.labels["bifrost/site"]}`);
  assert.equal(opt("data-dir"), "/var/lib/bifrost");
  // Off loopback the API needs tokens; the webhook its secret.
  assert.equal(opt("http"), "0.0.0.0:8720");
  assert.ok(opt("tokens") && opt("hook-secret-file"));
  assert.equal(gateway.securityContext.readOnlyRootFilesystem, true);
  assert.equal(gateway.securityContext.allowPrivilegeEscalation, false);
  assert.equal(gateway.readinessProbe.httpGet.path, "/readyz");
  const mounts = Object.fromEntries(
    gateway.volumeMounts.map((m: { name: string; mountPath: string }) => [m.name, m.mountPath]),
  );
  assert.equal(mounts.data, "/var/lib/bifrost");
  for (const file of [opt("tokens")!, opt("hook-secret-file")!]) {
    assert.ok(file.startsWith(mounts.secrets + "/"), file);
  }
  const volumes = Object.fromEntries(
    pod.volumes.map((v: { name: string }) => [v.name, v]),
  );
  assert.equal(volumes.data.persistentVolumeClaim.claimName, pvc.metadata.name);
  for (const c of pod.containers) {
    for (const m of c.volumeMounts) assert.ok(volumes[m.name], `${c.name}: volume ${m.name}`);
  }
  // Parses as a run command line: the options exist (a typo would be a usage error).
  const { parseArgs } = await import("node:util");
  parseArgs({
    args: args.slice(1),
    strict: true,
    options: Object.fromEntries(
      [
        "git",
        "ref",
        "path",
        "every",
        "deploy-timeout",
        "hook-secret-file",
        "tokens",
        "http",
        "data-dir",
      ].map((k) => [k, { type: "string" as const }]),
    ),
  });
});

Deno.test("the container image is debian:bookworm-slim with the binary as a non-root user", async () => {
  const text = await Deno.readTextFile(join(DEPLOY, "Containerfile"));
  const lines = text.split("\n").filter((l) => !l.startsWith("#"));
  assert.equal(lines.find((l) => l.startsWith("FROM ")), "FROM debian:bookworm-slim");
  assert.match(text, /^COPY dist\/bifrost-x86_64-unknown-linux-gnu dist\/bifrost-aarch64/m);
  assert.match(text, /install -m 0755 .* \/usr\/local\/bin\/bifrost/);
  assert.match(text, /^USER 10001:20$/m);
  assert.match(
    text,
    /^ENTRYPOINT \["\/usr\/bin\/tini", "--", "\/usr\/local\/bin\/bifrost"\]$/m,
  );
  assert.match(text, /^CMD \["run", "\/flows", "--data-dir", "\/var\/lib\/bifrost"\]$/m);
});
