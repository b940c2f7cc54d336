/**
 * @module
 * Where the gateways the editor connects to are kept: each gateway's URL and API token
 * together in VS Code's secret storage (`bifrost.gateway.<name>`, one JSON value), and only
 * the list of names, which says nothing about the plant, in the extension's global state.
 * A plant's addresses are as sensitive as its tokens: neither belongs in a settings file that
 * is synced or committed with a workspace.
 *
 * Earlier versions kept `{ name, url }` in the setting `bifrost.gateways` and the token under
 * `bifrost.token.<name>`: {@linkcode GatewayStore.migrate} moves such entries into the
 * store (the caller then clears the setting). Pure: no `vscode` import, tested with Deno.
 */

/** The part of VS Code's `SecretStorage` the store uses. */
export interface SecretsLike {
  get(key: string): PromiseLike<string | undefined>;
  store(key: string, value: string): PromiseLike<void>;
  delete(key: string): PromiseLike<void>;
}

/** The part of VS Code's `Memento` (global state) the store uses. */
export interface StateLike {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): PromiseLike<void>;
}

/** A gateway as kept: its name, URL and token (none for an open loopback gateway). */
export interface StoredGateway {
  name: string;
  url: string;
  token?: string;
}

/** What {@linkcode GatewayStore.migrate} did. */
export interface Migration {
  /** Names moved into the store. */
  moved: string[];
  /** Names already in the store (the store's URL and token are kept). */
  kept: string[];
  /** Entries that could not be moved, each with why. */
  skipped: string[];
}

/** The global-state key of the list of names. */
export const NAMES_KEY = "bifrost.gatewayNames";
/** The secret key of a gateway's URL and token. */
export const secretKey = (name: string): string => `bifrost.gateway.${name}`;
/** The secret key of a token as earlier versions kept it. */
export const legacyTokenKey = (name: string): string => `bifrost.token.${name}`;

/** The gateways: names in global state, URL and token in the secret storage. */
export class GatewayStore {
  constructor(private readonly secrets: SecretsLike, private readonly state: StateLike) {}

  /** The names, in the order they were added. */
  names(): string[] {
    const n = this.state.get<unknown>(NAMES_KEY);
    return Array.isArray(n) ? n.filter((x): x is string => typeof x === "string") : [];
  }

  /** One gateway; undefined when unknown or its secret is gone (or unreadable). */
  async get(name: string): Promise<StoredGateway | undefined> {
    const raw = await this.secrets.get(secretKey(name));
    if (raw === undefined) return undefined;
    try {
      const v = JSON.parse(raw) as { url?: unknown; token?: unknown };
      if (typeof v.url !== "string") return undefined;
      return {
        name,
        url: v.url,
        ...(typeof v.token === "string" && v.token ? { token: v.token } : {}),
      };
    } catch {
      return undefined;
    }
  }

  /** Every gateway whose secret can be read, in order, and the names whose cannot. */
  async list(): Promise<{ gateways: StoredGateway[]; missing: string[] }> {
    const gateways: StoredGateway[] = [];
    const missing: string[] = [];
    for (const name of this.names()) {
      const g = await this.get(name);
      if (g) gateways.push(g);
      else missing.push(name);
    }
    return { gateways, missing };
  }

  /** Adds a gateway or replaces the one of the same name. */
  async save(g: StoredGateway): Promise<void> {
    if (!g.name.trim()) throw new TypeError("A gateway needs a name");
    await this.secrets.store(
      secretKey(g.name),
      JSON.stringify({ url: g.url, ...(g.token ? { token: g.token } : {}) }),
    );
    const names = this.names();
    if (!names.includes(g.name)) await this.state.update(NAMES_KEY, [...names, g.name]);
  }

  /** Forgets a gateway: its name, URL and token (and a token of an earlier version). */
  async remove(name: string): Promise<void> {
    await this.secrets.delete(secretKey(name));
    await this.secrets.delete(legacyTokenKey(name));
    await this.state.update(NAMES_KEY, this.names().filter((n) => n !== name));
  }

  /**
   * Moves gateways of the old setting (`{ name, url }` entries, tokens under
   * `bifrost.token.<name>`) into the store. A name already in the store keeps the store's
   * URL and token. Malformed entries are skipped and said why; nothing is lost: the caller
   * clears the setting only of what was moved or kept.
   */
  async migrate(entries: unknown[]): Promise<Migration> {
    const out: Migration = { moved: [], kept: [], skipped: [] };
    for (const [i, e] of entries.entries()) {
      const name = (e as { name?: unknown } | null)?.name;
      const url = (e as { url?: unknown } | null)?.url;
      if (typeof name !== "string" || !name.trim() || typeof url !== "string" || !url.trim()) {
        out.skipped.push(
          `bifrost.gateways[${i}]: expected { "name": "...", "url": "..." }, got ${
            JSON.stringify(e)
          }`,
        );
        continue;
      }
      if (this.names().includes(name) && await this.get(name)) {
        out.kept.push(name);
        continue;
      }
      const token = await this.secrets.get(legacyTokenKey(name));
      await this.save({ name, url, ...(token ? { token } : {}) });
      await this.secrets.delete(legacyTokenKey(name));
      out.moved.push(name);
    }
    return out;
  }
}
