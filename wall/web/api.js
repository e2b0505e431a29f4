// The service's HTTP and WebSocket addresses, with the bearer token.
// Error bodies are {"error": code, "message", "details"}: pages show errorText(err).

export class ApiError extends Error {
  /** A refused request: `code` is the API's machine code, `status` the HTTP status. */
  constructor(message, status, code = "http_error", body = null) {
    super(message);
    this.status = status; this.code = code; this.body = body;
  }
}

/** The ApiError of a response that is not ok, from its JSON body when it has one. */
export function apiError(res, body) {
  return new ApiError(body?.message || res.statusText, res.status, body?.error || "http_error", body);
}

/** Fetches `path` with the token; `options.json` is sent as a JSON body. Resolves to the JSON reply. */
export async function api(token, path, options = {}) {
  const headers = Object.assign({ Authorization: `Bearer ${token}` }, options.headers || {});
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    options = Object.assign({}, options, { body: JSON.stringify(options.json) });
  }
  const res = await fetch(path, Object.assign({}, options, { headers }));
  const body = res.headers.get("content-type")?.includes("json") ? await res.json() : null;
  if (!res.ok) throw apiError(res, body);
  return body;
}

/** The ws(s):// address of `path` with the token (browsers cannot set headers on a WebSocket). */
export function wsUrl(path, token) {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const sep = path.includes("?") ? "&" : "?";
  return `${proto}://${location.host}${path}${sep}access_token=${encodeURIComponent(token)}`;
}
