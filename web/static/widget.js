/*
 * ShopDesk chat widget. A shop embeds it with one tag (docs/web.md):
 *
 *   <script src="http://HOST:PORT/widget.js" defer></script>
 *   optional: data-title="Luma assistant"  data-open="true"
 *
 * It loads socket.io-client (/static/vendor/socket.io.min.js) and its CSS from the origin it was
 * loaded from and speaks Rasa's socketio channel events plus ShopDesk's `typing` and `history`.
 * Plain JavaScript, no framework, no build step. Everything that comes from the server is put into
 * the page with createElement/textContent, never as HTML, and only http(s) links and images are
 * shown.
 */
(function () {
  "use strict";

  if (window.ShopDeskWidget) return; // the tag is on the page twice

  var WAIT_MS = 20000; // the typing indicator waits this long for a reply
  var HISTORY_WAIT_MS = 3000; // a server without `history` (plain Rasa): send the queue anyway
  var CONNECTING_NOTICE_MS = 1000;
  var IDLE_CHECK_MS = 60000; // how often an open page asks whether its chat has gone idle
  var TOO_MANY_CONNECTS = "Too many chats are connecting from your network right now. I'll try again in a moment.";
  var CLEARED_TEXT = "This chat was cleared. Anything you write now starts a new conversation.";
  var IDLE_TEXT = "This chat ended after a while without messages. Anything you write now starts a new one.";
  var CLEAR_OFFLINE_TEXT = "The chat can be cleared once the connection is back.";

  var script = document.currentScript || findOwnScript();
  var origin = new URL(script ? script.src : "/widget.js", window.location.href).origin;
  var title = attribute("data-title") || "Shop assistant";
  var openAttribute = attribute("data-open");
  var storePrefix = "shopdesk:" + origin + ":";

  var state = {
    sessionId: null,
    lastSeq: -1, // the highest seq shown
    seqs: new Set(), // the seqs shown
    ids: new Set(), // the message_ids of the user messages shown
    outbox: [], // {message, message_id, display_text?} typed but not sent yet
    socket: null,
    loading: false,
    connected: false,
    everConnected: false,
    ready: false, // session confirmed and history read: the outbox may be sent
    awaitingHistory: false,
    historyTimer: 0,
    serverTyping: false,
    typingTimer: 0,
    waiting: false,
    waitTimer: 0,
    idleMs: 0, // the server's idle limit (session_confirm's idle_s); 0: not told
    lastActivity: Date.now(),
    clearing: false,
    initialized: false,
    openOnInit: false,
  };

  var ui = {};

  window.ShopDeskWidget = {
    open: function () {
      if (state.initialized) openPanel(true);
      else state.openOnInit = true;
    },
    close: function () {
      if (state.initialized) closePanel(true);
      else state.openOnInit = false;
    },
    sessionId: function () {
      return state.sessionId;
    },
  };

  if (document.body) init();
  else document.addEventListener("DOMContentLoaded", init);

  // ---------------------------------------------------------------- helpers

  function findOwnScript() {
    var scripts = document.querySelectorAll("script[src]");
    for (var i = scripts.length - 1; i >= 0; i--) {
      if (/\/widget\.js([?#]|$)/.test(scripts[i].src)) return scripts[i];
    }
    return null;
  }

  function attribute(name) {
    return script && script.hasAttribute(name) ? script.getAttribute(name) : null;
  }

  function storage(kind) {
    try {
      return kind === "session" ? window.sessionStorage : window.localStorage;
    } catch (error) {
      return null; // blocked (privacy settings, sandboxed frame)
    }
  }

  function load(kind, key, fallback) {
    try {
      var raw = storage(kind).getItem(storePrefix + key);
      return raw === null ? fallback : JSON.parse(raw);
    } catch (error) {
      return fallback;
    }
  }

  function save(kind, key, value) {
    try {
      if (value === null || value === undefined) storage(kind).removeItem(storePrefix + key);
      else storage(kind).setItem(storePrefix + key, JSON.stringify(value));
    } catch (error) {
      /* storage is full or blocked: the widget still works for this page */
    }
  }

  function newId() {
    var c = window.crypto;
    if (c && typeof c.randomUUID === "function") {
      try {
        return c.randomUUID(); // only in secure contexts (https, localhost)
      } catch (error) {
        /* fall through */
      }
    }
    var bytes = new Uint8Array(16);
    if (c && typeof c.getRandomValues === "function") c.getRandomValues(bytes);
    else for (var i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // variant 10
    var hex = Array.prototype.map
      .call(bytes, function (b) {
        return (b + 0x100).toString(16).slice(1);
      })
      .join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join(
      "-"
    );
  }

  /** An http(s) URL as an absolute string, or null (javascript:, data:, relative, garbage). */
  function safeUrl(value) {
    if (typeof value !== "string" || !value) return null;
    try {
      var url = new URL(value);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (error) {
      return null;
    }
  }

  function text(value) {
    return typeof value === "string" ? value : typeof value === "number" ? String(value) : "";
  }

  /** createElement with attributes (set as attributes, i.e. as text) and optional text content. */
  function el(tag, attributes, content) {
    var node = document.createElement(tag);
    if (attributes) {
      Object.keys(attributes).forEach(function (name) {
        var value = attributes[name];
        if (value === null || value === undefined || value === false) return;
        if (name === "className") node.className = value;
        else if (name === "hidden") node.hidden = true;
        else node.setAttribute(name, value === true ? "" : String(value));
      });
    }
    if (content !== undefined && content !== null) node.textContent = String(content);
    return node;
  }

  function srOnly(content) {
    return el("span", { className: "shopdesk-sr-only" }, content);
  }

  function chatIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute(
      "d",
      "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6.5a1.5 " +
        "1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z"
    );
    svg.appendChild(path);
    return svg;
  }

  // ---------------------------------------------------------------- the page

  function init() {
    if (state.initialized) return;
    state.initialized = true;
    state.sessionId = load("local", "session_id", null);
    if (typeof state.sessionId !== "string" || !state.sessionId) state.sessionId = null;
    state.outbox = (load("session", "outbox", []) || []).filter(function (item) {
      return item && typeof item.message === "string" && typeof item.message_id === "string";
    });

    loadStylesheet();
    buildUi();
    state.outbox.forEach(function (item) {
      showOwnMessage(item.display_text || item.message, item.message_id);
    });

    var remembered = load("session", "open", null);
    var wanted =
      state.openOnInit ||
      (typeof remembered === "boolean" ? remembered : openAttribute !== null && openAttribute !== "false");
    if (wanted) openPanel(state.openOnInit);
    else if (state.sessionId || state.outbox.length) connect(); // restore, hear agents

    window.addEventListener("online", function () {
      if (state.socket && !state.socket.connected) state.socket.connect();
    });
    window.addEventListener("offline", updateStatus);
    // a page left open on a shared computer: the server ends the idle chat when asked
    setInterval(checkIdle, IDLE_CHECK_MS);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") checkIdle();
    });
  }

  function loadStylesheet() {
    var href = origin + "/static/widget.css";
    var shown = false;
    function show() {
      if (shown) return;
      shown = true;
      if (ui.root) ui.root.style.visibility = "";
    }
    var links = document.querySelectorAll('link[rel="stylesheet"]');
    for (var i = 0; i < links.length; i++) {
      if (links[i].href === href) {
        setTimeout(show, 0);
        return;
      }
    }
    var link = el("link", { rel: "stylesheet", href: href });
    link.addEventListener("load", show);
    link.addEventListener("error", show);
    setTimeout(show, 3000);
    document.head.appendChild(link);
  }

  function buildUi() {
    var root = el("div", { className: "shopdesk-root", id: "shopdesk-root" });
    root.style.visibility = "hidden"; // until widget.css is there: no unstyled flash

    var launcher = el("button", {
      type: "button",
      className: "shopdesk-launcher",
      "data-testid": "shopdesk-launcher",
      "aria-expanded": "false",
      "aria-controls": "shopdesk-panel",
    });
    launcher.appendChild(chatIcon());
    launcher.appendChild(srOnly(title));

    var panel = el("div", {
      id: "shopdesk-panel",
      className: "shopdesk-panel",
      role: "dialog",
      "aria-label": title,
      "data-testid": "shopdesk-panel",
      hidden: true,
    });

    var header = el("div", { className: "shopdesk-header" });
    header.appendChild(el("span", { className: "shopdesk-title", "aria-hidden": "true" }, title));
    var clearButton = el(
      "button",
      { type: "button", className: "shopdesk-clear", "data-testid": "shopdesk-clear" },
      "Clear chat"
    );
    header.appendChild(clearButton);
    var closeButton = el(
      "button",
      { type: "button", className: "shopdesk-close", "aria-label": "Close chat", "data-testid": "shopdesk-close" },
      "\u00d7"
    );
    header.appendChild(closeButton);

    var status = el("div", {
      className: "shopdesk-status",
      role: "status",
      "data-testid": "shopdesk-status",
      hidden: true,
    });

    // "Clear this chat?": asked in the panel, so it works with the keyboard and a screen reader
    var confirmBar = el("div", {
      className: "shopdesk-confirm",
      role: "group",
      "aria-labelledby": "shopdesk-confirm-text",
      "data-testid": "shopdesk-clear-dialog",
      hidden: true,
    });
    confirmBar.appendChild(
      el(
        "p",
        { id: "shopdesk-confirm-text", className: "shopdesk-confirm-text" },
        "Delete this conversation? It cannot be brought back."
      )
    );
    var confirmYes = el(
      "button",
      { type: "button", className: "shopdesk-confirm-yes", "data-testid": "shopdesk-clear-confirm" },
      "Delete chat"
    );
    var confirmNo = el(
      "button",
      { type: "button", className: "shopdesk-confirm-no", "data-testid": "shopdesk-clear-cancel" },
      "Keep it"
    );
    confirmBar.appendChild(confirmYes);
    confirmBar.appendChild(confirmNo);

    var log = el("div", {
      className: "shopdesk-log",
      role: "log",
      "aria-live": "polite",
      "aria-label": "Conversation",
      "data-testid": "shopdesk-log",
      tabindex: "0",
    });

    var typing = el("div", { className: "shopdesk-typing", "data-testid": "shopdesk-typing", hidden: true });
    var dots = el("span", { className: "shopdesk-typing-dots", "aria-hidden": "true" });
    dots.appendChild(el("span"));
    dots.appendChild(el("span"));
    dots.appendChild(el("span"));
    typing.appendChild(dots);
    typing.appendChild(srOnly("The assistant is typing"));

    var form = el("form", { className: "shopdesk-form", novalidate: true });
    form.appendChild(el("label", { for: "shopdesk-input", className: "shopdesk-sr-only" }, "Your message"));
    var input = el("textarea", {
      id: "shopdesk-input",
      className: "shopdesk-input",
      "data-testid": "shopdesk-input",
      rows: "1",
      placeholder: "Type a message\u2026",
      autocomplete: "off",
      enterkeyhint: "send",
    });
    var send = el("button", { type: "submit", className: "shopdesk-send", "data-testid": "shopdesk-send" }, "Send");
    form.appendChild(input);
    form.appendChild(send);

    panel.appendChild(header);
    panel.appendChild(status);
    panel.appendChild(confirmBar);
    panel.appendChild(log);
    panel.appendChild(typing);
    panel.appendChild(form);
    root.appendChild(panel);
    root.appendChild(launcher);
    document.body.appendChild(root);

    ui = {
      root: root,
      launcher: launcher,
      panel: panel,
      status: status,
      log: log,
      typing: typing,
      input: input,
      clearButton: clearButton,
      confirmBar: confirmBar,
      confirmNo: confirmNo,
    };

    launcher.addEventListener("click", function () {
      if (panel.hidden) openPanel(true);
      else closePanel(true);
    });
    closeButton.addEventListener("click", function () {
      closePanel(true);
    });
    clearButton.addEventListener("click", askToClear);
    confirmYes.addEventListener("click", clearChat);
    confirmNo.addEventListener("click", function () {
      hideConfirm(true);
    });
    confirmBar.addEventListener("keydown", function (event) {
      if (event.key === "Escape" || event.key === "Esc") {
        event.preventDefault();
        event.stopPropagation(); // the question goes away, the panel stays
        hideConfirm(true);
      }
    });
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape" || event.key === "Esc") {
        event.preventDefault();
        event.stopPropagation();
        closePanel(true);
      }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      sendFromInput();
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        sendFromInput();
      }
    });
    input.addEventListener("input", fitInput);
  }

  function fitInput() {
    ui.input.style.height = "auto";
    ui.input.style.height = Math.min(ui.input.scrollHeight + 2, 120) + "px";
  }

  function openPanel(focus) {
    if (!ui.panel.hidden) {
      if (focus) ui.input.focus();
      return;
    }
    ui.panel.hidden = false;
    ui.root.classList.add("shopdesk-open");
    ui.launcher.setAttribute("aria-expanded", "true");
    ui.launcher.classList.remove("shopdesk-unread");
    save("session", "open", true);
    connect();
    scrollToEnd();
    if (focus) ui.input.focus();
  }

  function closePanel(returnFocus) {
    if (ui.panel.hidden) return;
    var hadFocus = ui.panel.contains(document.activeElement);
    ui.panel.hidden = true;
    ui.root.classList.remove("shopdesk-open");
    ui.launcher.setAttribute("aria-expanded", "false");
    save("session", "open", false);
    if (returnFocus || hadFocus) ui.launcher.focus();
  }

  function scrollToEnd() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  // ---------------------------------------------------------------- the connection

  function loadSocketIo(done) {
    var url = origin + "/static/vendor/socket.io.min.js";
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
      } catch (error) {
        /* not RequireJS after all: load it as a plain script */
      }
    }
    var hadIo = Object.prototype.hasOwnProperty.call(window, "io");
    var pageIo = window.io;
    var tag = el("script", { src: url, async: true });
    tag.addEventListener("load", function () {
      var io = window.io;
      // the shop's own `io` (if it has one) stays as it was
      if (hadIo) window.io = pageIo;
      else {
        try {
          delete window.io;
        } catch (error) {
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

  function connect() {
    if (state.socket || state.loading) return;
    state.loading = true;
    setTimeout(updateStatus, CONNECTING_NOTICE_MS);
    loadSocketIo(function (io) {
      state.loading = false;
      if (!io) {
        showStatus("The chat could not be loaded. Please try again later.");
        return;
      }
      var socket = io(origin, {
        path: "/socket.io/",
        reconnectionDelayMax: 5000,
        // lets the server tell this widget (seq, sender, echoes) from rasa-webchat
        auth: { client: "shopdesk-widget" },
      });
      state.socket = socket;
      socket.on("connect", onConnect);
      socket.on("disconnect", onDisconnect);
      socket.on("connect_error", onConnectError);
      socket.on("session_confirm", onSessionConfirm);
      socket.on("history", onHistory);
      socket.on("rate_limited", onRateLimited);
      socket.on("chat_cleared", onChatCleared);
      socket.on("bot_uttered", function (message) {
        showMessage(message, true);
      });
      socket.on("typing", onTyping);
    });
  }

  function onConnect() {
    state.connected = true;
    state.everConnected = true;
    state.ready = false;
    updateStatus();
    state.socket.emit("session_request", { session_id: state.sessionId });
  }

  function onDisconnect(reason) {
    state.connected = false;
    state.ready = false;
    state.awaitingHistory = false;
    clearTimeout(state.historyTimer);
    updateStatus();
    if (reason === "io server disconnect") {
      // the server closed this socket on purpose; socket.io does not retry by itself
      setTimeout(function () {
        if (state.socket && !state.socket.connected) state.socket.connect();
      }, 3000);
    }
  }

  function onConnectError(error) {
    updateStatus();
    // a flood from this network (HTTP 429 on the handshake, or the server refused the socket)
    var refused = error && (error.description === 429 || (error.data && error.data.retry_after));
    if (refused) showStatus(TOO_MANY_CONNECTS);
  }

  function onSessionConfirm(data) {
    // Rasa's channel sends the id itself, ShopDesk's {"session_id": id, "idle_s"?, "reason"?}
    var id = typeof data === "string" ? data : data && text(data.session_id);
    if (!id) return;
    if (data && typeof data.idle_s === "number" && data.idle_s > 0) state.idleMs = data.idle_s * 1000;
    if (state.sessionId && id !== state.sessionId) {
      startOver();
      if (data && data.reason === "idle") {
        dropOutbox();
        showNotice(IDLE_TEXT);
      }
    }
    state.lastActivity = Date.now();
    state.sessionId = id;
    save("local", "session_id", id);
    state.awaitingHistory = true;
    state.socket.emit("history", { session_id: id, after_seq: state.lastSeq });
    clearTimeout(state.historyTimer);
    state.historyTimer = setTimeout(historyRead, HISTORY_WAIT_MS);
  }

  function onHistory(data) {
    var messages = data && Array.isArray(data.messages) ? data.messages.slice() : [];
    messages.sort(function (a, b) {
      return (a && typeof a.seq === "number" ? a.seq : 0) - (b && typeof b.seq === "number" ? b.seq : 0);
    });
    messages.forEach(function (message) {
      showMessage(message, false);
    });
    historyRead();
  }

  function historyRead() {
    if (!state.awaitingHistory) return;
    state.awaitingHistory = false;
    clearTimeout(state.historyTimer);
    state.ready = true;
    flush();
    updateStatus();
  }

  /** The server gave a new session (the old one was unknown): forget what was shown. */
  function startOver() {
    var queued = {};
    state.outbox.forEach(function (item) {
      queued[item.message_id] = true;
    });
    Array.prototype.slice.call(ui.log.children).forEach(function (node) {
      if (!queued[node.getAttribute("data-message-id")]) node.remove();
    });
    state.seqs.clear();
    state.ids = new Set(Object.keys(queued));
    state.lastSeq = -1;
  }

  /** The server refused an event: it was too much, too fast. Wait as told, then ask again. */
  function onRateLimited(data) {
    var event = data && text(data.event);
    var wait = data && typeof data.retry_after === "number" ? Math.max(1, data.retry_after) : 5;
    if (event === "user_uttered") return; // the chat already shows the server's notice
    if (event === "clear_chat") {
      state.clearing = false;
      ui.clearButton.disabled = false;
      return showNotice(text(data.text) || "Please wait a moment.");
    }
    showStatus(text(data && data.text) || "Please wait a moment.");
    setTimeout(function () {
      if (!state.socket || !state.socket.connected) return;
      updateStatus();
      if (event === "session_request") state.socket.emit("session_request", { session_id: state.sessionId });
      else if (event === "history" && state.sessionId) {
        state.socket.emit("history", { session_id: state.sessionId, after_seq: state.lastSeq });
      }
    }, wait * 1000);
  }

  /** A page left open: ask the server again; it gives a new session if this one went idle. */
  function checkIdle() {
    if (!state.idleMs || !state.sessionId || !state.socket || !state.socket.connected) return;
    if (Date.now() - state.lastActivity < state.idleMs) return;
    state.lastActivity = Date.now();
    state.socket.emit("session_request", { session_id: state.sessionId });
  }

  // ---------------------------------------------------------------- clear this chat

  function askToClear() {
    ui.confirmBar.hidden = false;
    ui.confirmNo.focus(); // the safe answer first
  }

  function hideConfirm(returnFocus) {
    ui.confirmBar.hidden = true;
    if (returnFocus) ui.clearButton.focus();
  }

  function clearChat() {
    hideConfirm(false);
    if (!state.ready || !state.socket || !state.socket.connected) {
      showNotice(CLEAR_OFFLINE_TEXT);
      ui.clearButton.focus();
      return;
    }
    state.clearing = true;
    ui.clearButton.disabled = true;
    dropOutbox();
    state.socket.emit("clear_chat", { session_id: state.sessionId });
  }

  /** The server deleted the conversation and moved this page to a new one (session_confirm). */
  function onChatCleared(data) {
    state.clearing = false;
    ui.clearButton.disabled = false;
    if (!data || data.cleared !== true) {
      showNotice(text(data && data.text) || "Sorry, the chat could not be cleared.");
      return;
    }
    Array.prototype.slice.call(ui.log.children).forEach(function (node) {
      node.remove();
    });
    state.seqs.clear();
    state.ids = new Set();
    state.lastSeq = -1;
    dropOutbox();
    setWaiting(false);
    showNotice(CLEARED_TEXT);
    ui.input.focus();
  }

  /** Unsent messages of a chat that ended are not sent into the next one. */
  function dropOutbox() {
    state.outbox.forEach(function (item) {
      var node = findOwnMessage(item.message_id);
      if (node) node.remove();
    });
    state.outbox = [];
    save("session", "outbox", null);
  }

  /** A note from the widget itself (not part of the conversation), read out politely. */
  function showNotice(message) {
    var node = el("div", { className: "shopdesk-notice", "data-testid": "shopdesk-notice" }, message);
    ui.log.appendChild(node);
    scrollToEnd();
  }

  function flush() {
    if (!state.ready || !state.socket || !state.socket.connected) return;
    while (state.outbox.length) {
      var item = state.outbox.shift();
      var data = { message: item.message, session_id: state.sessionId, message_id: item.message_id };
      if (item.display_text) data.display_text = item.display_text; // shown in history instead
      state.socket.emit("user_uttered", data);
      setWaiting(true); // until an answer comes
      var node = findOwnMessage(item.message_id);
      if (node && node.getAttribute("data-after") === "queued") {
        node.setAttribute("data-after", String(state.lastSeq));
        node.classList.remove("shopdesk-msg--queued");
        var note = node.querySelector(".shopdesk-meta");
        if (note) note.remove();
      }
    }
    save("session", "outbox", state.outbox.length ? state.outbox : null);
  }

  function showStatus(message) {
    ui.status.textContent = message;
    ui.status.hidden = !message;
  }

  function updateStatus() {
    if (!state.socket && !state.loading) return;
    if (state.connected) return showStatus("");
    if (!state.everConnected) {
      // a quick first connect shows nothing; a slow or failing one says so
      return showStatus(state.socket && state.socket.active === false ? "Cannot reach the chat." : "Connecting\u2026");
    }
    var offline = navigator.onLine === false ? " You seem to be offline." : "";
    var queued = state.outbox.length ? " Your message will be sent when the connection is back." : "";
    showStatus("Reconnecting\u2026" + offline + queued);
  }

  // ---------------------------------------------------------------- typing

  function onTyping(data) {
    state.serverTyping = !!(data && data.on);
    clearTimeout(state.typingTimer);
    if (state.serverTyping) {
      state.typingTimer = setTimeout(function () {
        state.serverTyping = false;
        showTyping();
      }, WAIT_MS);
    }
    showTyping();
  }

  function setWaiting(on) {
    state.waiting = on;
    clearTimeout(state.waitTimer);
    if (on) state.waitTimer = setTimeout(setWaiting, WAIT_MS, false);
    showTyping();
  }

  function showTyping() {
    var on = state.serverTyping || state.waiting;
    if (ui.typing.hidden === !on) return;
    ui.typing.hidden = !on;
    if (on) scrollToEnd();
  }

  // ---------------------------------------------------------------- messages

  function sendFromInput() {
    var value = ui.input.value.trim();
    if (!value) return;
    ui.input.value = "";
    fitInput();
    sendUserMessage(value, null);
  }

  /** The shopper says `message`; the conversation shows `display` (a button's title) instead. */
  function sendUserMessage(message, display) {
    state.lastActivity = Date.now();
    var id = newId();
    var item = { message: message, message_id: id };
    if (display && display !== message) item.display_text = display;
    state.outbox.push(item);
    save("session", "outbox", state.outbox);
    showOwnMessage(display || message, id);
    disableQuickReplies();
    connect();
    flush();
    updateStatus();
  }

  function showOwnMessage(shown, id) {
    var node = renderMessage({ text: shown }, "user");
    node.setAttribute("data-message-id", id);
    node.setAttribute("data-after", "queued"); // not sent yet: stays below the history
    if (!state.ready) {
      node.classList.add("shopdesk-msg--queued");
      node.appendChild(el("div", { className: "shopdesk-meta" }, "Not sent yet"));
    }
    state.ids.add(id);
    ui.log.appendChild(node);
    scrollToEnd();
  }

  function findOwnMessage(id) {
    var nodes = ui.log.children;
    for (var i = 0; i < nodes.length; i++) {
      if (nodes[i].getAttribute("data-message-id") === id) return nodes[i];
    }
    return null;
  }

  /** A message from the server (bot_uttered or a history entry), shown once. */
  function showMessage(message, live) {
    if (!message || typeof message !== "object") return;
    if (live) state.lastActivity = Date.now();
    var sender = message.sender === "user" || message.sender === "agent" ? message.sender : "bot";
    // a transient notice repeats the last seq but is not part of the record
    var seq = message.transient !== true && Number.isInteger(message.seq) ? message.seq : null;
    if (seq !== null && state.seqs.has(seq)) return;
    var messageId = typeof message.message_id === "string" && message.message_id ? message.message_id : null;

    if (sender === "user" && messageId && state.ids.has(messageId)) {
      var own = findOwnMessage(messageId); // shown when typed; now it has its place
      if (own && seq !== null) {
        own.setAttribute("data-seq", String(seq));
        own.removeAttribute("data-after");
      }
      remember(seq);
      return;
    }

    var node = renderMessage(message, sender);
    if (!node) return remember(seq);
    if (messageId) {
      node.setAttribute("data-message-id", messageId);
      if (sender === "user") state.ids.add(messageId);
    }
    if (seq !== null) node.setAttribute("data-seq", String(seq));
    place(node, seq);
    remember(seq);

    if (sender === "user") disableQuickReplies();
    else {
      setWaiting(false);
      if (live && ui.panel.hidden) ui.launcher.classList.add("shopdesk-unread");
    }
    scrollToEnd();
  }

  function remember(seq) {
    if (seq === null) return;
    state.seqs.add(seq);
    if (seq > state.lastSeq) state.lastSeq = seq;
  }

  /** In seq order; the shopper's unsent messages stay last. */
  function place(node, seq) {
    if (seq !== null) {
      var nodes = ui.log.children;
      for (var i = 0; i < nodes.length; i++) {
        var other = nodes[i].getAttribute("data-seq");
        var after = nodes[i].getAttribute("data-after");
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

  function renderMessage(message, sender) {
    var node = el("div", {
      className: "shopdesk-msg shopdesk-msg--" + sender,
      "data-testid": "shopdesk-message",
      "data-sender": sender,
    });
    if (sender === "agent") {
      node.appendChild(el("div", { className: "shopdesk-agent-name" }, text(message.agent_name) || "Agent"));
    } else {
      node.appendChild(srOnly(sender === "user" ? "You:" : title + ":"));
    }
    var shown = false;

    var words = text(message.text);
    if (words) {
      node.appendChild(el("div", { className: "shopdesk-bubble" }, words));
      shown = true;
    }

    var attachment = message.attachment;
    if (attachment && typeof attachment === "object") {
      var payload = attachment.payload && typeof attachment.payload === "object" ? attachment.payload : {};
      if (attachment.type === "template" && payload.template_type === "generic" && Array.isArray(payload.elements)) {
        var carousel = renderCarousel(payload.elements);
        if (carousel) {
          node.appendChild(carousel);
          node.classList.add("shopdesk-msg--wide");
          shown = true;
        }
      } else if (attachment.type === "image" && safeUrl(payload.src)) {
        var figure = el("div", { className: "shopdesk-bubble shopdesk-bubble--image" });
        figure.appendChild(el("img", { src: safeUrl(payload.src), alt: text(payload.alt), loading: "lazy" }));
        node.appendChild(figure);
        shown = true;
      }
    }

    if (Array.isArray(message.quick_replies)) {
      var group = renderQuickReplies(message.quick_replies);
      if (group) {
        node.appendChild(group);
        shown = true;
      }
    }
    return shown ? node : null;
  }

  function renderCarousel(elements) {
    var list = el("ul", { className: "shopdesk-carousel", role: "list", "aria-label": "Products", tabindex: "0" });
    elements.forEach(function (item) {
      if (!item || typeof item !== "object") return;
      var name = text(item.title);
      var card = el("li", { className: "shopdesk-card", "data-testid": "shopdesk-card" });
      if (text(item.sku)) card.setAttribute("data-sku", text(item.sku));

      card.appendChild(renderCardMedia(name, safeUrl(item.image_url), text(item.sku)));
      var body = el("div", { className: "shopdesk-card-body" });
      if (name) body.appendChild(el("div", { className: "shopdesk-card-title" }, name));
      if (text(item.subtitle)) body.appendChild(el("div", { className: "shopdesk-card-subtitle" }, text(item.subtitle)));
      var note = renderCardNote(item);
      if (note) body.appendChild(note);

      var buttons = el("div", { className: "shopdesk-card-buttons" });
      (Array.isArray(item.buttons) ? item.buttons : []).forEach(function (button) {
        if (!button || typeof button !== "object") return;
        var label = text(button.title);
        if (button.type === "web_url") {
          var url = safeUrl(button.url);
          if (!url) return;
          var link = el("a", {
            className: "shopdesk-card-button",
            href: url,
            target: "_blank",
            rel: "noopener noreferrer",
          }, label || "Open");
          if (name) link.appendChild(srOnly(" " + name));
          link.appendChild(srOnly(" (opens in a new tab)"));
          buttons.appendChild(link);
        } else if (button.type === "postback" && text(button.payload)) {
          var action = el("button", { type: "button", className: "shopdesk-card-button" }, label || text(button.payload));
          action.addEventListener("click", function () {
            sendUserMessage(text(button.payload), label || null);
          });
          buttons.appendChild(action);
        }
      });
      if (buttons.children.length) body.appendChild(buttons);
      card.appendChild(body);
      list.appendChild(card);
    });
    return list.children.length ? list : null;
  }

  var TINTS = 6; // .shopdesk-tint-0 … -5 in widget.css

  /**
   * The card's picture box: a placeholder (the product's initials, or a bag, on a tint picked
   * by its name) that the photo covers once it has loaded. A photo that fails (no URL, a dead
   * link, a blocked host) is removed, so the shopper never sees an empty box or a broken icon.
   */
  function renderCardMedia(name, image, sku) {
    var media = el("div", { className: "shopdesk-card-media", "data-testid": "shopdesk-card-media" });
    var key = name || sku;
    var placeholder = el("div", {
      className: "shopdesk-card-placeholder shopdesk-tint-" + (hash(key) % TINTS),
      "data-testid": "shopdesk-card-placeholder",
      "aria-hidden": "true", // the title says what it is
    });
    var letters = initials(key);
    if (letters) placeholder.appendChild(el("span", { className: "shopdesk-card-initials" }, letters));
    else placeholder.appendChild(bagIcon());
    media.appendChild(placeholder);
    if (image) {
      var img = el("img", { className: "shopdesk-card-image", src: image, alt: name || "Product", loading: "lazy" });
      img.addEventListener("load", function () {
        if (img.naturalWidth > 0) media.classList.add("shopdesk-card-media--loaded");
        else img.remove();
      });
      img.addEventListener("error", function () {
        img.remove();
      });
      media.appendChild(img);
    }
    return media;
  }

  /** "Chaz Kangeroo Hoodie" → "CK": the first letters (or digits) of the first two words. */
  function initials(name) {
    var letters = [];
    (name || "").split(/\s+/).forEach(function (word) {
      var first = /[A-Za-z0-9\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff]/.exec(word);
      if (first && letters.length < 2) letters.push(first[0].toUpperCase());
    });
    return letters.join("");
  }

  function hash(value) {
    var h = 0;
    for (var i = 0; i < (value || "").length; i++) h = (h * 31 + value.charCodeAt(i)) >>> 0;
    return h;
  }

  function bagIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("class", "shopdesk-card-icon");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute(
      "d",
      "M7 8V6a5 5 0 0 1 10 0v2h3l-1 13H5L4 8h3zm2 0h6V6a3 3 0 0 0-6 0v2z"
    );
    svg.appendChild(path);
    return svg;
  }

  /** A close match says so, with what it misses of the request ("$56.00, over your $50.00"). */
  function renderCardNote(item) {
    var misses = (Array.isArray(item.misses) ? item.misses : []).map(text).filter(Boolean);
    if (item.exact !== false && !misses.length) return null;
    var note = el("div", { className: "shopdesk-card-note", "data-testid": "shopdesk-card-note" });
    note.appendChild(el("span", { className: "shopdesk-card-note-label" }, "Close match"));
    misses.forEach(function (miss) {
      note.appendChild(el("span", { className: "shopdesk-card-miss" }, miss));
    });
    return note;
  }

  function renderQuickReplies(replies) {
    var group = el("div", { className: "shopdesk-quick-replies", role: "group", "aria-label": "Suggested replies" });
    replies.forEach(function (reply) {
      if (!reply || typeof reply !== "object" || !text(reply.payload)) return;
      var payload = text(reply.payload);
      var label = text(reply.title) || payload;
      var button = el("button", {
        type: "button",
        className: "shopdesk-quick-reply",
        "data-testid": "shopdesk-quick-reply",
      }, label);
      button.addEventListener("click", function () {
        if (button.disabled) return;
        disableGroup(group, button);
        sendUserMessage(payload, label);
        ui.input.focus();
      });
      group.appendChild(button);
    });
    return group.children.length ? group : null;
  }

  function disableGroup(group, chosen) {
    group.classList.add("shopdesk-quick-replies--answered");
    Array.prototype.forEach.call(group.querySelectorAll("button"), function (button) {
      button.disabled = true;
      if (button === chosen) {
        button.classList.add("shopdesk-quick-reply--chosen");
        button.setAttribute("aria-pressed", "true");
      }
    });
  }

  /** The shopper said something: earlier suggestions are answered. */
  function disableQuickReplies() {
    var groups = ui.log.querySelectorAll(".shopdesk-quick-replies:not(.shopdesk-quick-replies--answered)");
    Array.prototype.forEach.call(groups, function (group) {
      disableGroup(group, null);
    });
  }
})();
