/* Small DOM and formatting helpers of the console. Everything that comes from the server
 * reaches the DOM through textContent / createElement only (shoppers' messages may contain
 * markup: it shows as text). */

export function $(id) {
  return document.getElementById(id);
}

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

/** A server value as a CSS class fragment: letters, digits, _ and - only. */
export function safeClass(value) {
  return String(value || "none").replace(/[^a-z0-9_-]/gi, "");
}

/** Any value as text: objects as JSON. */
export function valueText(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "object") {
    try {
      return JSON.stringify(value);
    } catch {
      return String(value);
    }
  }
  return String(value);
}

/** A monotonic clock in milliseconds (the queue's waiting times count from it). */
export function now() {
  return window.performance && performance.now ? performance.now() : Date.now();
}

export function mmss(seconds) {
  const s = Math.max(0, Math.floor(Number(seconds) || 0));
  const m = Math.floor(s / 60);
  const r = s % 60;
  return (m < 10 ? "0" : "") + m + ":" + (r < 10 ? "0" : "") + r;
}

export function formatWhen(value) {
  if (value === undefined || value === null || value === "") return "";
  const d = new Date(value);
  if (isNaN(d.getTime())) return String(value);
  try {
    return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  } catch {
    return d.toLocaleString();
  }
}

/** Read out to a screen reader (the live region keeps the last three lines). */
export function announce(text) {
  const region = $("announcer");
  region.appendChild(el("p", null, text));
  while (region.childNodes.length > 3) region.removeChild(region.firstChild);
}
