/* The conversation log: the shopper's own messages (shown when typed, sent from the outbox once
 * the session is ready), the server's messages in seq order and shown once, and the typing
 * indicator. Every function takes the widget context `w` (state.js). */

import { el } from "./dom.js";
import { disableQuickReplies, renderMessage } from "./render.js";
import { newId } from "./storage.js";
import { scrollToEnd } from "./ui.js";

export const WAIT_MS = 20000; // the typing indicator waits this long for a reply

/** The shopper says `message`; the log shows `display` (a button's title) instead. Queued in
 * the outbox until flush() can send it. */
export function queueMessage(w, message, display) {
  const state = w.state;
  state.lastActivity = Date.now();
  const id = newId();
  const item = { message: message, message_id: id };
  if (display && display !== message) item.display_text = display;
  state.outbox.push(item);
  w.store.save("session", "outbox", state.outbox);
  showOwnMessage(w, display || message, id);
  disableQuickReplies(w.ui.log);
}

export function showOwnMessage(w, shown, id) {
  const node = renderMessage(w, { text: shown }, "user");
  node.setAttribute("data-message-id", id);
  node.setAttribute("data-after", "queued"); // not sent yet: stays below the history
  if (!w.state.ready) {
    node.classList.add("shopdesk-msg--queued");
    node.appendChild(el("div", { className: "shopdesk-meta" }, "Not sent yet"));
  }
  w.state.ids.add(id);
  w.ui.log.appendChild(node);
  scrollToEnd(w.ui);
}

function findOwnMessage(ui, id) {
  const nodes = ui.log.children;
  for (let i = 0; i < nodes.length; i++) {
    if (nodes[i].getAttribute("data-message-id") === id) return nodes[i];
  }
  return null;
}

/** Sends the outbox, once the session is confirmed and its history read. */
export function flush(w) {
  const state = w.state;
  if (!state.ready || !state.socket || !state.socket.connected) return;
  while (state.outbox.length) {
    const item = state.outbox.shift();
    const data = { message: item.message, session_id: state.sessionId, message_id: item.message_id };
    if (item.display_text) data.display_text = item.display_text; // shown in history instead
    state.socket.emit("user_uttered", data);
    setWaiting(w, true); // until an answer comes
    const node = findOwnMessage(w.ui, item.message_id);
    if (node && node.getAttribute("data-after") === "queued") {
      node.setAttribute("data-after", String(state.lastSeq));
      node.classList.remove("shopdesk-msg--queued");
      const note = node.querySelector(".shopdesk-meta");
      if (note) note.remove();
    }
  }
  w.store.save("session", "outbox", state.outbox.length ? state.outbox : null);
}

/** Unsent messages of a chat that ended are not sent into the next one. */
export function dropOutbox(w) {
  w.state.outbox.forEach(function (item) {
    const node = findOwnMessage(w.ui, item.message_id);
    if (node) node.remove();
  });
  w.state.outbox = [];
  w.store.save("session", "outbox", null);
}

/** The server gave a new session (the old one was unknown): forget what was shown. */
export function startOver(w) {
  const queued = {};
  w.state.outbox.forEach(function (item) {
    queued[item.message_id] = true;
  });
  Array.prototype.slice.call(w.ui.log.children).forEach(function (node) {
    if (!queued[node.getAttribute("data-message-id")]) node.remove();
  });
  w.state.seqs.clear();
  w.state.ids = new Set(Object.keys(queued));
  w.state.lastSeq = -1;
}

/** The chat was cleared: nothing of it stays in the log. */
export function clearLog(w) {
  Array.prototype.slice.call(w.ui.log.children).forEach(function (node) {
    node.remove();
  });
  w.state.seqs.clear();
  w.state.ids = new Set();
  w.state.lastSeq = -1;
}

/** A message from the server (bot_uttered or a history entry), shown once. */
export function showMessage(w, message, live) {
  const state = w.state;
  const ui = w.ui;
  if (!message || typeof message !== "object") return;
  if (live) state.lastActivity = Date.now();
  const sender = message.sender === "user" || message.sender === "agent" ? message.sender : "bot";
  // a transient notice repeats the last seq but is not part of the record
  const seq = message.transient !== true && Number.isInteger(message.seq) ? message.seq : null;
  if (seq !== null && state.seqs.has(seq)) return;
  const messageId = typeof message.message_id === "string" && message.message_id ? message.message_id : null;

  if (sender === "user" && messageId && state.ids.has(messageId)) {
    const own = findOwnMessage(ui, messageId); // shown when typed; now it has its place
    if (own && seq !== null) {
      own.setAttribute("data-seq", String(seq));
      own.removeAttribute("data-after");
    }
    remember(state, seq);
    return;
  }

  const node = renderMessage(w, message, sender);
  if (!node) return remember(state, seq);
  if (messageId) {
    node.setAttribute("data-message-id", messageId);
    if (sender === "user") state.ids.add(messageId);
  }
  if (seq !== null) node.setAttribute("data-seq", String(seq));
  place(ui, node, seq);
  remember(state, seq);

  if (sender === "user") disableQuickReplies(ui.log);
  else {
    setWaiting(w, false);
    if (live && ui.panel.hidden) ui.launcher.classList.add("shopdesk-unread");
  }
  scrollToEnd(ui);
}

function remember(state, seq) {
  if (seq === null) return;
  state.seqs.add(seq);
  if (seq > state.lastSeq) state.lastSeq = seq;
}

/** In seq order; the shopper's unsent messages stay last. */
function place(ui, node, seq) {
  if (seq !== null) {
    const nodes = ui.log.children;
    for (let i = 0; i < nodes.length; i++) {
      const other = nodes[i].getAttribute("data-seq");
      const after = nodes[i].getAttribute("data-after");
      if (
        (other !== null && Number(other) > seq) ||
        (after !== null && (after === "queued" || Number(after) >= seq))
      ) {
        ui.log.insertBefore(node, nodes[i]);
        return;
      }
    }
  }
  ui.log.appendChild(node);
}

// ---------------------------------------------------------------- typing

/** The server's `typing` event: on until it says off, or WAIT_MS at most. */
export function onTyping(w, data) {
  const state = w.state;
  state.serverTyping = !!(data && data.on);
  clearTimeout(state.typingTimer);
  if (state.serverTyping) {
    state.typingTimer = setTimeout(function () {
      state.serverTyping = false;
      showTyping(w);
    }, WAIT_MS);
  }
  showTyping(w);
}

/** The shopper waits for an answer (at most WAIT_MS). */
export function setWaiting(w, on) {
  w.state.waiting = on;
  clearTimeout(w.state.waitTimer);
  if (on) w.state.waitTimer = setTimeout(setWaiting, WAIT_MS, w, false);
  showTyping(w);
}

function showTyping(w) {
  const on = w.state.serverTyping || w.state.waiting;
  if (w.ui.typing.hidden === !on) return;
  w.ui.typing.hidden = !on;
  if (on) scrollToEnd(w.ui);
}
