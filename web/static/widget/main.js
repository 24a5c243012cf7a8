/* The chat widget's start (widget.js imports it with the embed tag's options): one widget
 * context `w` = {state, ui, store, origin, title, say}, passed explicitly to every module.
 *
 *   state.js       what one widget knows (session, outbox, socket, timers)
 *   storage.js     what it keeps in the browser; message ids
 *   ui.js          the launcher, panel and status line
 *   render.js      one message: text, product cards, quick replies
 *   messages.js    the log, the outbox, the typing indicator
 *   connection.js  the socket and the server's events
 *   clear.js       "Clear chat"
 *
 * Everything that comes from the server is put into the page with createElement/textContent,
 * never as HTML, and only http(s) links and images are shown.
 */

import { askToClear, clearChat, hideConfirm } from "./clear.js";
import { checkIdle, connect, reconnect } from "./connection.js";
import { flush, queueMessage, showOwnMessage } from "./messages.js";
import { createState } from "./state.js";
import { createStore } from "./storage.js";
import { buildUi, closePanel, fitInput, loadStylesheet, openPanel, updateStatus } from "./ui.js";

const IDLE_CHECK_MS = 60000; // how often an open page asks whether its chat has gone idle
const DEFAULT_TITLE = "Shop assistant";

/**
 * Starts the widget once the page has a body; returns window.ShopDeskWidget's API.
 * options: {origin, title, open} from the tag; `openOnInit`: open() was called before.
 */
export function start(options, openOnInit) {
  const w = {
    state: createState(),
    ui: null,
    store: createStore("shopdesk:" + options.origin + ":"),
    origin: options.origin,
    title: options.title || DEFAULT_TITLE,
    say: null,
  };
  w.say = (message, display) => say(w, message, display);
  const boot = { initialized: false, openOnInit: !!openOnInit };

  function init() {
    if (boot.initialized) return;
    boot.initialized = true;
    setUp(w, options.open, boot.openOnInit);
  }
  if (document.body) init();
  else document.addEventListener("DOMContentLoaded", init);

  return {
    open: function () {
      if (boot.initialized) openPanel(w, true, () => connect(w));
      else boot.openOnInit = true;
    },
    close: function () {
      if (boot.initialized) closePanel(w, true);
      else boot.openOnInit = false;
    },
    sessionId: function () {
      return w.state.sessionId;
    },
  };
}

function setUp(w, openAttribute, openOnInit) {
  const state = w.state;
  const open = (focus) => openPanel(w, focus, () => connect(w));
  state.sessionId = w.store.load("local", "session_id", null);
  if (typeof state.sessionId !== "string" || !state.sessionId) state.sessionId = null;
  state.outbox = (w.store.load("session", "outbox", []) || []).filter(function (item) {
    return item && typeof item.message === "string" && typeof item.message_id === "string";
  });

  loadStylesheet(w);
  w.ui = buildUi(w.title, {
    toggle: () => (w.ui.panel.hidden ? open(true) : closePanel(w, true)),
    close: () => closePanel(w, true),
    askToClear: () => askToClear(w),
    clear: () => clearChat(w),
    keep: () => hideConfirm(w, true),
    send: () => sendFromInput(w),
    resize: () => fitInput(w.ui),
  });
  state.outbox.forEach(function (item) {
    showOwnMessage(w, item.display_text || item.message, item.message_id);
  });

  const remembered = w.store.load("session", "open", null);
  const wanted =
    openOnInit ||
    (typeof remembered === "boolean" ? remembered : openAttribute !== null && openAttribute !== "false");
  if (wanted) open(openOnInit);
  else if (state.sessionId || state.outbox.length) connect(w); // restore, hear agents

  window.addEventListener("online", () => reconnect(w));
  window.addEventListener("offline", () => updateStatus(w));
  // a page left open on a shared computer: the server ends the idle chat when asked
  setInterval(checkIdle, IDLE_CHECK_MS, w);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") checkIdle(w);
  });
}

function sendFromInput(w) {
  const value = w.ui.input.value.trim();
  if (!value) return;
  w.ui.input.value = "";
  fitInput(w.ui);
  say(w, value, null);
}

/** The shopper says `message` (shown as `display`, a button's title, when given). */
function say(w, message, display) {
  queueMessage(w, message, display);
  connect(w);
  flush(w);
  updateStatus(w);
}
