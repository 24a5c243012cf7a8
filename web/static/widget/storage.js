/* What the widget keeps in the browser, under one key prefix per widget origin: the session id
 * (localStorage, so a reload resumes the chat) and the outbox and open state (sessionStorage,
 * this tab only). Blocked or full storage never stops the widget. */

function storage(kind) {
  try {
    return kind === "session" ? window.sessionStorage : window.localStorage;
  } catch {
    return null; // blocked (privacy settings, sandboxed frame)
  }
}

/** load(kind, key, fallback) and save(kind, key, value) under `prefix`; null removes. */
export function createStore(prefix) {
  return {
    load: function (kind, key, fallback) {
      try {
        const raw = storage(kind).getItem(prefix + key);
        return raw === null ? fallback : JSON.parse(raw);
      } catch {
        return fallback;
      }
    },
    save: function (kind, key, value) {
      try {
        if (value === null || value === undefined) storage(kind).removeItem(prefix + key);
        else storage(kind).setItem(prefix + key, JSON.stringify(value));
      } catch {
        /* storage is full or blocked: the widget still works for this page */
      }
    },
  };
}

/** A random UUID (version 4): the id of a message the shopper typed. */
export function newId() {
  const c = window.crypto;
  if (c && typeof c.randomUUID === "function") {
    try {
      return c.randomUUID(); // only in secure contexts (https, localhost)
    } catch {
      /* fall through */
    }
  }
  const bytes = new Uint8Array(16);
  if (c && typeof c.getRandomValues === "function") c.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // variant 10
  const hex = Array.prototype.map.call(bytes, (b) => (b + 0x100).toString(16).slice(1)).join("");
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
}
