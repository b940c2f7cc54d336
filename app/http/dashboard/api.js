// The dashboard's access to the gateway: the REST API with the token kept in this tab's
// sessionStorage, and the token prompt. Plain browser JavaScript (no build step): the
// gateway serves these files as they are.

const API = "/api/v1";
const TOKEN_KEY = "bifrost.token";

/** The API token of this tab, or "". */
export function token() {
  return sessionStorage.getItem(TOKEN_KEY) ?? "";
}

/** An API error: `status` and the gateway's `{ code, message, field }`. */
export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = error?.code ?? "HTTP_" + status;
  }
}

/** Calls the REST API; resolves to the parsed body, throws an ApiError on 4xx/5xx. */
export async function api(path, init = {}) {
  const headers = {};
  if (init.body !== undefined) headers["content-type"] = "application/json";
  const t = token();
  if (t) headers.authorization = `Bearer ${t}`;
  const res = await fetch(API + path, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = { error: { message: text.slice(0, 200) } };
  }
  if (!res.ok) throw new ApiError(res.status, body?.error);
  return body;
}

let asking;

/**
 * Asks for a token (`why` says what for); resolves to true when one was given. Concurrent
 * askers share one prompt.
 */
export function askToken(why) {
  if (asking) return asking;
  const dialog = document.getElementById("token-dialog");
  const input = document.getElementById("token-input");
  document.getElementById("token-why").textContent = why;
  input.value = "";
  asking = new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      asking = undefined;
      if (dialog.returnValue === "ok" && input.value.trim() !== "") {
        sessionStorage.setItem(TOKEN_KEY, input.value.trim());
        resolve(true);
      } else {
        if (dialog.returnValue === "clear") sessionStorage.removeItem(TOKEN_KEY);
        resolve(false);
      }
      showTokenState();
    }, { once: true });
  });
  dialog.showModal();
  return asking;
}

/** Shows whether this tab holds a token. */
export function showTokenState() {
  document.getElementById("token-state").textContent = token() ? "token set" : "no token";
}

/**
 * Runs `call`; on 401 (no or unknown token) or 403 (token lacks the scope) asks for a token
 * once and runs it again. `what` tells the user what the token is for.
 */
export async function withToken(call, what) {
  try {
    return await call();
  } catch (e) {
    if (!(e instanceof ApiError) || (e.status !== 401 && e.status !== 403)) throw e;
    const why = e.status === 401
      ? `${what} needs an API token: ${e.message}.`
      : `${what} needs another token: ${e.message}.`;
    if (!(await askToken(why))) throw e;
    return await call();
  }
}
