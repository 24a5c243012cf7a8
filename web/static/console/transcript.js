/* The open conversation's content: the summary, the transcript (each message once, in seq
 * order) and the internal notes. `c.conv` (conversation.js) holds what was rendered so far. */

import { $, announce, el, formatWhen, safeClass, valueText } from "./dom.js";

function senderLabel(c, message) {
  if (message.sender === "user") return "Shopper";
  if (message.sender === "bot") return "Bot";
  if (message.sender === "agent") {
    const name = message.agent_name || "Agent";
    const agent = c.session.agent;
    return agent && name === agent.display_name ? name + " (you)" : name;
  }
  return String(message.sender || "Unknown");
}

export function messageKey(message) {
  // A transient notice (not in the record) may reuse the last seq: never let it hide a message.
  if (message.transient || typeof message.seq !== "number") return "x" + JSON.stringify(message);
  return "s" + message.seq;
}

export function recordedSeq(message) {
  return !message.transient && typeof message.seq === "number" ? message.seq : null;
}

export function renderSummary(summary) {
  const box = $("summary");
  box.replaceChildren();
  const dl = el("dl", "summary-list");

  function row(term, valueNode) {
    dl.appendChild(el("dt", null, term));
    const dd = el("dd");
    dd.appendChild(valueNode);
    dl.appendChild(dd);
  }
  function text(value, fallback) {
    const empty = value === undefined || value === null || value === "";
    return el("span", empty ? "none" : null, empty ? fallback : valueText(value));
  }

  row("Wanted", text(summary.wanted, "not known"));
  row("Order number", text(summary.order_number, "none"));

  const products = Array.isArray(summary.products_shown) ? summary.products_shown : [];
  if (products.length) {
    const ul = el("ul", "inline-list");
    products.forEach(function (name) {
      ul.appendChild(el("li", null, valueText(name)));
    });
    row("Products shown", ul);
  } else {
    row("Products shown", text(null, "none"));
  }

  const slots = summary.slots && typeof summary.slots === "object" ? summary.slots : {};
  const names = Object.keys(slots).filter(function (k) {
    return slots[k] !== null && slots[k] !== undefined && slots[k] !== "";
  });
  if (names.length) {
    const slotList = el("dl", "slots");
    names.sort().forEach(function (k) {
      const pair = el("div", "slot");
      pair.appendChild(el("dt", null, k));
      pair.appendChild(el("dd", null, valueText(slots[k])));
      slotList.appendChild(pair);
    });
    row("Slots", slotList);
  } else {
    row("Slots", text(null, "none set"));
  }
  box.appendChild(el("h3", "section-title", "Summary"));
  box.appendChild(dl);
}

function attachmentNode(attachment) {
  const payload = attachment.payload && typeof attachment.payload === "object" ? attachment.payload : {};
  const elements = Array.isArray(payload.elements) ? payload.elements : null;
  if (!elements) return el("div", "msg-extra", "[attachment: " + valueText(attachment.type || "unknown") + "]");
  const box = el("div", "msg-products");
  box.appendChild(el("span", "msg-extra-label", elements.length === 1 ? "Product card:" : "Product cards:"));
  const ul = el("ul");
  elements.forEach(function (item) {
    const title = item && item.title ? item.title : "(untitled)";
    // a close match as the shopper saw it marked, with what it misses of the request
    const misses = item && Array.isArray(item.misses) ? item.misses.map(valueText).filter(Boolean) : [];
    const close = item && (item.exact === false || misses.length);
    const note = close ? " (close match" + (misses.length ? ": " + misses.join("; ") : "") + ")" : "";
    ul.appendChild(el("li", null, valueText(title) + note));
  });
  box.appendChild(ul);
  return box;
}

/** One message at the transcript's end, unless it was shown; `live`: scroll and read it out. */
export function appendMessage(c, message, live) {
  const conv = c.conv;
  if (!message || typeof message !== "object") return;
  const key = messageKey(message);
  if (conv.seen.has(key)) return;
  conv.seen.add(key);
  const seq = recordedSeq(message);
  if (seq !== null && seq > conv.lastSeq) conv.lastSeq = seq;

  const transcript = $("transcript");
  const placeholder = transcript.querySelector(".empty");
  if (placeholder) placeholder.remove();
  const atBottom = nearBottom(transcript);

  const sender = String(message.sender || "unknown");
  const li = el("li", "msg msg-" + safeClass(sender));
  li.setAttribute("data-testid", "console-message");
  li.setAttribute("data-sender", sender);
  if (seq !== null) li.dataset.seq = String(seq);

  const label = senderLabel(c, message);
  li.appendChild(el("div", "msg-sender", label));
  if (message.text !== undefined && message.text !== null && message.text !== "") {
    li.appendChild(el("div", "msg-text", message.text));
  }
  if (message.attachment && typeof message.attachment === "object") {
    li.appendChild(attachmentNode(message.attachment));
  }
  if (Array.isArray(message.quick_replies) && message.quick_replies.length) {
    const titles = message.quick_replies.map(function (q) {
      return q && (q.title || q.payload) ? valueText(q.title || q.payload) : "?";
    });
    li.appendChild(el("div", "msg-extra msg-buttons", "[buttons: " + titles.join(" | ") + "]"));
  }

  transcript.appendChild(li);
  if (live) {
    scrollTranscript(atBottom);
    const agent = c.session.agent;
    const mine = sender === "agent" && agent && message.agent_name === agent.display_name;
    if (!mine) {
      const spoken = message.text ? String(message.text) : "(no text)";
      announce("New message from " + label + ": " + spoken);
    }
  }
}

function nearBottom(node) {
  return node.scrollHeight - node.scrollTop - node.clientHeight < 40;
}

export function scrollTranscript(force) {
  const node = $("transcript");
  if (force) node.scrollTop = node.scrollHeight;
}

export function renderNotes(notes) {
  const ul = $("notes");
  ul.replaceChildren();
  if (!notes.length) {
    ul.appendChild(el("li", "empty", "No internal notes."));
    return;
  }
  notes.forEach(function (note) {
    ul.appendChild(noteItem(note));
  });
}

function noteItem(note) {
  const li = el("li", "note");
  li.setAttribute("data-testid", "console-note");
  li.appendChild(el("div", "note-label", "Internal note — the shopper does not see this"));
  const meta = [note.agent ? valueText(note.agent) : "", formatWhen(note.at)].filter(Boolean).join(" · ");
  if (meta) li.appendChild(el("div", "note-meta", meta));
  li.appendChild(el("div", "note-text", note.text));
  return li;
}
