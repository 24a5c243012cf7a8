/* The widget's socket: socket.io-client from the widget's origin, Rasa's socketio channel
 * events plus ShopDesk's `typing`, `history`, `rate_limited` and `chat_cleared`
 * (docs/web.md). Every function takes the widget context `w` (state.js). */

import { onChatCleared } from "./clear.js";
import { el, text } from "./dom.js";
import { dropOutbox, flush, onTyping, showMessage, startOver } from "./messages.js";
import { showNotice, showStatus, updateStatus } from "./ui.js";

const HISTORY_WAIT_MS = 3000; // a server without `history` (plain Rasa): send the queue anyway
const CONNECTING_NOTICE_MS = 1000;
const TOO_MANY_CONNECTS = "Too many chats are connecting from your network right now. I'll try again in a moment.";
const IDLE_TEXT = "This chat ended after a while without messages. Anything you write now starts a new one.";
const WIDGET_CLIENT = "shopdesk-widget"; // lets the server tell this widget from rasa-webchat

/** socket.io's `io` without touching the page's own `window.io`; null when it fails. */
function loadSocketIo(origin, done) {
  const url = origin + "/static/vendor/socket.io.min.js";
  // An AMD page (RequireJS, e.g. Magento): the UMD bundle would call define(), so ask require.
  if (typeof window.define === "function" && window.define.amd && typeof window.require === "function") {
    try {
      window.require(
        [url],
        function (io) {
          done(typeof io === "function" ? io : null);
        },
        function () {
          done(null);
        }
      );
      return;
    } catch {
      /* not RequireJS after all: load it as a plain script */
    }
  }
  const hadIo = Object.prototype.hasOwnProperty.call(window, "io");
  const pageIo = window.io;
  const tag = el("script", { src: url, async: true });
  tag.addEventListener("load", function () {
    const io = window.io;
    // the shop's own `io` (if it has one) stays as it was
    if (hadIo) window.io = pageIo;
    else {
      try {
        delete window.io;
      } catch {
        window.io = undefined;
      }
    }
    done(typeof io === "function" ? io : null);
  });
  tag.addEventListener("error", function () {
    done(null);
  });
  document.head.appendChild(tag);
}

/** Connects once (later calls do nothing): loads the client, opens the socket. */
export function connect(w) {
  const state = w.state;
  if (state.socket || state.loading) return;
  state.loading = true;
  setTimeout(updateStatus, CONNECTING_NOTICE_MS, w);
  loadSocketIo(w.origin, function (io) {
    state.loading = false;
    if (!io) {
      showStatus(w.ui, "The chat could not be loaded. Please try again later.");
      return;
    }
    const socket = io(w.origin, {
      path: "/socket.io/",
      reconnectionDelayMax: 5000,
      auth: { client: WIDGET_CLIENT },
    });
    state.socket = socket;
    socket.on("connect", () => onConnect(w));
    socket.on("disconnect", (reason) => onDisconnect(w, reason));
    socket.on("connect_error", (error) => onConnectError(w, error));
    socket.on("session_confirm", (data) => onSessionConfirm(w, data));
    socket.on("history", (data) => onHistory(w, data));
    socket.on("rate_limited", (data) => onRateLimited(w, data));
    socket.on("chat_cleared", (data) => onChatCleared(w, data));
    socket.on("bot_uttered", (message) => showMessage(w, message, true));
    socket.on("typing", (data) => onTyping(w, data));
  });
}

/** Reconnects a socket that is down (the browser came back online). */
export function reconnect(w) {
  if (w.state.socket && !w.state.socket.connected) w.state.socket.connect();
}

function onConnect(w) {
  const state = w.state;
  state.connected = true;
  state.everConnected = true;
  state.ready = false;
  updateStatus(w);
  state.socket.emit("session_request", { session_id: state.sessionId });
}

function onDisconnect(w, reason) {
  const state = w.state;
  state.connected = false;
  state.ready = false;
  state.awaitingHistory = false;
  clearTimeout(state.historyTimer);
  updateStatus(w);
  if (reason === "io server disconnect") {
    // the server closed this socket on purpose; socket.io does not retry by itself
    setTimeout(reconnect, 3000, w);
  }
}

function onConnectError(w, error) {
  updateStatus(w);
  // a flood from this network (HTTP 429 on the handshake, or the server refused the socket)
  const refused = error && (error.description === 429 || (error.data && error.data.retry_after));
  if (refused) showStatus(w.ui, TOO_MANY_CONNECTS);
}

function onSessionConfirm(w, data) {
  const state = w.state;
  // Rasa's channel sends the id itself, ShopDesk's {"session_id": id, "idle_s"?, "reason"?}
  const id = typeof data === "string" ? data : data && text(data.session_id);
  if (!id) return;
  if (data && typeof data.idle_s === "number" && data.idle_s > 0) state.idleMs = data.idle_s * 1000;
  if (state.sessionId && id !== state.sessionId) {
    startOver(w);
    if (data && data.reason === "idle") {
      dropOutbox(w);
      showNotice(w.ui, IDLE_TEXT);
    }
  }
  state.lastActivity = Date.now();
  state.sessionId = id;
  w.store.save("local", "session_id", id);
  state.awaitingHistory = true;
  state.socket.emit("history", { session_id: id, after_seq: state.lastSeq });
  clearTimeout(state.historyTimer);
  state.historyTimer = setTimeout(historyRead, HISTORY_WAIT_MS, w);
}

function onHistory(w, data) {
  const messages = data && Array.isArray(data.messages) ? data.messages.slice() : [];
  const seqOf = (m) => (m && typeof m.seq === "number" ? m.seq : 0);
  messages.sort((a, b) => seqOf(a) - seqOf(b));
  messages.forEach(function (message) {
    showMessage(w, message, false);
  });
  historyRead(w);
}

function historyRead(w) {
  const state = w.state;
  if (!state.awaitingHistory) return;
  state.awaitingHistory = false;
  clearTimeout(state.historyTimer);
  state.ready = true;
  flush(w);
  updateStatus(w);
}

/** The server refused an event: it was too much, too fast. Wait as told, then ask again. */
function onRateLimited(w, data) {
  const state = w.state;
  const event = data && text(data.event);
  const wait = data && typeof data.retry_after === "number" ? Math.max(1, data.retry_after) : 5;
  if (event === "user_uttered") return; // the chat already shows the server's notice
  if (event === "clear_chat") {
    state.clearing = false;
    w.ui.clearButton.disabled = false;
    return showNotice(w.ui, text(data.text) || "Please wait a moment.");
  }
  showStatus(w.ui, text(data && data.text) || "Please wait a moment.");
  setTimeout(function () {
    if (!state.socket || !state.socket.connected) return;
    updateStatus(w);
    if (event === "session_request") state.socket.emit("session_request", { session_id: state.sessionId });
    else if (event === "history" && state.sessionId) {
      state.socket.emit("history", { session_id: state.sessionId, after_seq: state.lastSeq });
    }
  }, wait * 1000);
}

/** A page left open: ask the server again; it gives a new session if this one went idle. */
export function checkIdle(w) {
  const state = w.state;
  if (!state.idleMs || !state.sessionId || !state.socket || !state.socket.connected) return;
  if (Date.now() - state.lastActivity < state.idleMs) return;
  state.lastActivity = Date.now();
  state.socket.emit("session_request", { session_id: state.sessionId });
}
