// The console's only way to the server: the public REST API under /api/v1.
// The access token lives in this module's memory only. The refresh token is in an HttpOnly
// cookie the page never sees; refreshing sends the readable crm_csrf cookie's value as
// X-CSRF-Token (gateway/auth/cookies.py). A 401 is answered by one silent refresh and a
// retry; when that fails, the session has ended.
import { currentLanguage } from "./i18n.js";

const API = "/api/v1";
let accessToken = null;
let refreshing = null;
let onSessionEnd = () => {};

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export function whenSessionEnds(callback) { onSessionEnd = callback; }

function csrfToken() {
  const found = document.cookie.match(/(?:^|;\s*)crm_csrf=([^;]+)/);
  return found ? decodeURIComponent(found[1]) : null;
}

async function send(method, path, body, { retry = true, raw = false } = {}) {
  const headers = { "Accept-Language": currentLanguage(), Accept: "application/json" };
  if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
  const form = body instanceof FormData;  // a file upload: the browser sets its type
  if (body !== undefined && !form) headers["Content-Type"] = "application/json";
  const response = await fetch(API + path, {
    method, headers, credentials: "same-origin",
    body: body === undefined || form ? body : JSON.stringify(body),
  });
  if (response.status === 401 && retry) {
    if (await refresh()) return send(method, path, body, { retry: false, raw });
    onSessionEnd();
  }
  if (raw && response.ok) return response;
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// A new access token from the session's cookie; false when there is no session.
// Tabs take turns (a lock shared by the browser's tabs), each with the cookie as the last
// one left it: two tabs spending the same refresh token at once would look like a stolen
// token replayed, and end the session.
export function refresh() {
  refreshing ??= navigator.locks.request("crm-refresh", async () => {
    const csrf = csrfToken();
    if (!csrf) return false;
    const response = await fetch(`${API}/auth/refresh`, {
      method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf },
    });
    accessToken = response.ok ? (await response.json()).access_token : null;
    return response.ok;
  }).catch(() => false).finally(() => { refreshing = null; });
  return refreshing;
}

export async function signIn(username, password) {
  const data = await send("POST", "/auth/login", { username, password, session: "cookie" },
    { retry: false });
  accessToken = data.access_token;
}

export async function signOut() {
  const csrf = csrfToken();
  accessToken = null;
  if (csrf) {
    await fetch(`${API}/auth/logout`, {
      method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf },
    }).catch(() => {});
  }
}

// Save what GET path?query answers (an export) as a file, named as the server names it.
export async function download(path, query) {
  const response = await send("GET", path + queryString(query), undefined, { raw: true });
  const named = /filename="?([^";]+)"?/.exec(response.headers.get("Content-Disposition") || "");
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = named ? named[1] : "export";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

// A query string of the values given (an empty filter is no filter).
function queryString(query = {}) {
  const given = Object.entries(query).filter(([, value]) => value !== "" && value != null);
  return given.length ? `?${new URLSearchParams(given)}` : "";
}

export const api = {
  get: (path, query) => send("GET", path + queryString(query)),
  post: (path, body) => send("POST", path, body ?? {}),
  patch: (path, body) => send("PATCH", path, body),
  put: (path, body) => send("PUT", path, body),
  delete: (path) => send("DELETE", path),
};
