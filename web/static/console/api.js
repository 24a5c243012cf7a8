/* The console's HTTP API (docs/web.md "Agent console HTTP API"): JSON both ways, the session
 * cookie sent by the browser, the CSRF token (kept in memory only) on every change. */

export const API = "/agent/api/";
export const NETWORK_TEXT = "Cannot reach the server. Retrying…";

/** A refused or failed request: `status` 0 when the server could not be reached. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** `api(method, path, body)`: a Promise of the answer's JSON, or an ApiError with the
 * server's {"error"} sentence. `session.csrf` is read at each call. */
export function createApi(session) {
  return function api(method, path, body) {
    const headers = { Accept: "application/json" };
    const options = { method: method, credentials: "same-origin", headers: headers, cache: "no-store" };
    if (method !== "GET") {
      headers["X-CSRF-Token"] = session.csrf || "";
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body === undefined ? {} : body);
    }
    return fetch(API + path, options).then(
      function (response) {
        return response.text().then(function (raw) {
          let data;
          try {
            data = raw ? JSON.parse(raw) : {};
          } catch {
            data = null;
          }
          if (!response.ok) {
            const message =
              data && typeof data.error === "string" && data.error
                ? data.error
                : "The server answered " + response.status + " " + (response.statusText || "") + ".";
            throw new ApiError(response.status, message.trim());
          }
          return data || {};
        });
      },
      function () {
        throw new ApiError(0, NETWORK_TEXT);
      }
    );
  };
}

export function convPath(id, action) {
  return "conversations/" + encodeURIComponent(id) + (action ? "/" + action : "");
}
