/**
 * @module
 * Signed commits: with `--verify-keys FILE`, a revision is deployed only when its commit
 * carries a good OpenPGP signature by one of the public keys in FILE (ASCII-armoured, as
 * `gpg --armor --export KEYID…` writes them; several keys may follow one another).
 *
 * The keys are imported at start into a keyring of the gateway's own
 * (`<data dir>/git/gnupg`, made again at every start so that a key removed from the file
 * is no longer trusted), and `git verify-commit` runs against that keyring only: a commit
 * signed by any other key, or not signed, is refused. No key server is ever asked.
 */

import { join } from "node:path";
import { BifrostError, errorMessage } from "../../engine/errors.ts";
import { git } from "./git.ts";

/** A keyring made of the keys in one file. */
export class CommitVerifier {
  readonly home: string;
  /** Fingerprints of the keys imported. */
  readonly fingerprints: string[];

  private constructor(home: string, fingerprints: string[]) {
    this.home = home;
    this.fingerprints = fingerprints;
  }

  /** Imports the keys of `keysFile` into a fresh keyring under `gitRoot`. */
  static async create(keysFile: string, gitRoot: string): Promise<CommitVerifier> {
    let text: string;
    try {
      text = await Deno.readTextFile(keysFile);
    } catch (e) {
      throw new BifrostError(
        "DEPLOY_FAILED",
        `Cannot read --verify-keys "${keysFile}": ${errorMessage(e)}`,
      );
    }
    if (!text.includes("-----BEGIN PGP PUBLIC KEY BLOCK-----")) {
      throw new BifrostError(
        "DEPLOY_FAILED",
        `Cannot use --verify-keys "${keysFile}": expected ASCII-armoured OpenPGP public keys ` +
          "(gpg --armor --export KEYID > FILE)",
      );
    }
    const home = join(gitRoot, "gnupg");
    await Deno.remove(home, { recursive: true }).catch(() => {});
    await Deno.mkdir(home, { recursive: true, mode: 0o700 });
    const gpg = async (args: string[], stdin?: string) => {
      let out: Deno.CommandOutput;
      try {
        const child = new Deno.Command("gpg", {
          args: ["--batch", "--no-tty", "--homedir", home, ...args],
          stdin: stdin === undefined ? "null" : "piped",
          stdout: "piped",
          stderr: "piped",
          env: { LC_ALL: "C" },
        }).spawn();
        if (stdin !== undefined) {
          const w = child.stdin.getWriter();
          await w.write(new TextEncoder().encode(stdin));
          await w.close();
        }
        out = await child.output();
      } catch (e) {
        const why = e instanceof Deno.errors.NotFound
          ? "gpg is not installed (apt-get install gnupg)"
          : errorMessage(e);
        throw new BifrostError("DEPLOY_FAILED", `Cannot import --verify-keys: ${why}`);
      }
      const d = new TextDecoder();
      if (!out.success) {
        throw new BifrostError(
          "DEPLOY_FAILED",
          `Cannot import the keys of --verify-keys "${keysFile}": ${d.decode(out.stderr).trim()}`,
        );
      }
      return d.decode(out.stdout);
    };
    await gpg(["--import"], text);
    const listing = await gpg(["--with-colons", "--fingerprint", "--list-keys"]);
    const fingerprints = listing.split("\n").filter((l) => l.startsWith("fpr:"))
      .map((l) => l.split(":")[9]!).filter((f, i, all) => f && all.indexOf(f) === i);
    if (fingerprints.length === 0) {
      throw new BifrostError("DEPLOY_FAILED", `No public key in --verify-keys "${keysFile}"`);
    }
    return new CommitVerifier(home, fingerprints);
  }

  /**
   * Resolves with the fingerprint that signed `commit`; throws `DEPLOY_FAILED` when the
   * commit is unsigned or signed by a key not in the file.
   */
  async verify(repo: string, commit: string): Promise<string> {
    const { stdout: raw } = await git(`read commit ${commit.slice(0, 12)}`, [
      "cat-file",
      "commit",
      commit,
    ], { cwd: repo });
    const headers = raw.slice(0, raw.indexOf("\n\n"));
    if (!/^gpgsig(-sha256)? /m.test(headers)) {
      throw new BifrostError(
        "DEPLOY_FAILED",
        `Commit ${commit.slice(0, 12)} is not signed, and --verify-keys requires a signature`,
      );
    }
    let status: string;
    try {
      const r = await git(`verify the signature of ${commit.slice(0, 12)}`, [
        "verify-commit",
        "--raw",
        commit,
      ], { cwd: repo, env: { GNUPGHOME: this.home }, timeoutMs: 30_000 });
      status = r.stderr;
    } catch (e) {
      const why = errorMessage(e).replace(/^Cannot [^:]*: /, "");
      throw new BifrostError(
        "DEPLOY_FAILED",
        `Commit ${commit.slice(0, 12)} is not signed by a key of --verify-keys (${why})`,
      );
    }
    // VALIDSIG <signing key fpr> <date> <ts> <expiry> <version> <reserved> <algo> <hash>
    // <class> <primary key fpr>: a subkey signs, the primary key is what the file lists.
    const fields = /^\[GNUPG:\] VALIDSIG .*$/m.exec(status)?.[0].split(" ") ?? [];
    const signer = fields[2] ?? "";
    const primary = fields[11] ?? signer;
    if (!this.fingerprints.includes(signer) && !this.fingerprints.includes(primary)) {
      throw new BifrostError(
        "DEPLOY_FAILED",
        `Commit ${commit.slice(0, 12)} is signed by ${
          signer || "an unknown key"
        }, not by a key of --verify-keys`,
      );
    }
    return primary || signer;
  }
}
