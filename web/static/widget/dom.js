/* Building the widget's DOM safely: everything from the server goes in as text or as an
 * attribute, never as HTML, and only http(s) URLs are used. */

/** createElement with attributes (set as attributes, i.e. as text) and optional text content. */
export function el(tag, attributes, content) {
  const node = document.createElement(tag);
  if (attributes) {
    Object.keys(attributes).forEach(function (name) {
      const value = attributes[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "className") node.className = value;
      else if (name === "hidden") node.hidden = true;
      else node.setAttribute(name, value === true ? "" : String(value));
    });
  }
  if (content !== undefined && content !== null) node.textContent = String(content);
  return node;
}

/** Text only a screen reader reads. */
export function srOnly(content) {
  return el("span", { className: "shopdesk-sr-only" }, content);
}

/** A string from the server as text: a number as its digits, anything else as "". */
export function text(value) {
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : "";
}

/** An http(s) URL as an absolute string, or null (javascript:, data:, relative, garbage). */
export function safeUrl(value) {
  if (typeof value !== "string" || !value) return null;
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

function icon(d, attributes) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  Object.keys(attributes).forEach(function (name) {
    svg.setAttribute(name, attributes[name]);
  });
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", d);
  svg.appendChild(path);
  return svg;
}

export function chatIcon() {
  return icon(
    "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6.5a1.5 " +
      "1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z",
    { "aria-hidden": "true", focusable: "false" }
  );
}

export function bagIcon() {
  return icon("M7 8V6a5 5 0 0 1 10 0v2h3l-1 13H5L4 8h3zm2 0h6V6a3 3 0 0 0-6 0v2z", {
    class: "shopdesk-card-icon",
    focusable: "false",
  });
}
