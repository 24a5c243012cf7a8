/* ShopDesk agent console (docs/web.md "Agent console HTTP API", docs/agent-console.md).
 *
 * Vanilla JS, no build step. Everything that comes from the server reaches the DOM through
 * textContent / createElement only (shoppers' messages may contain markup: it shows as text).
 */
(function () {
  "use strict";

  var API = "/agent/api/";
  var SOCKET_NAMESPACE = "/agent";
  var SOCKET_PATH = "/socket.io/";
  var POLL_MS = 5000;
  var EXPIRED_TEXT = "Your session has expired, please sign in again.";
  var NETWORK_TEXT = "Cannot reach the server. Retrying…";

  var state = {
    agent: null, // {id, username, display_name, role}
    csrf: null, // csrf_token, kept in memory only
    queue: [], // [QueueEntry]
    queueFetchedAt: 0, // performance.now() when queue's waiting_s were current
    queueSignature: "",
    openId: null, // conversation id open on the right
    openPreview: null, // the queue's preview of the open conversation, when last seen
    conv: null, // Conversation (messages/notes as rendered so far)
    convFetchedAt: 0,
    seen: null, // Set of message keys in the transcript
    lastSeq: -1,
    convRequest: 0, // drops stale conversation answers
    refetchTimer: null,
    busy: false, // an action (take, reply, …) is in flight
    socket: null,
    pollTimer: null,
    tickTimer: null,
    pollError: false,
    confirmingClose: false,
    intents: null, // Promise of the intents an agent may choose (GET intents), once per sign-in
    analytics: null, // the report shown in the analytics view
    analyticsRequest: 0, // drops stale reports
    charts: {} // canvas id -> Chart
  };

  function $(id) {
    return document.getElementById(id);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // ---------------------------------------------------------------- HTTP

  function ApiError(status, message) {
    this.status = status;
    this.message = message;
  }

  function api(method, path, body) {
    var headers = { Accept: "application/json" };
    var options = { method: method, credentials: "same-origin", headers: headers, cache: "no-store" };
    if (method !== "GET") {
      headers["X-CSRF-Token"] = state.csrf || "";
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body === undefined ? {} : body);
    }
    return fetch(API + path, options).then(
      function (response) {
        return response.text().then(function (raw) {
          var data = null;
          try {
            data = raw ? JSON.parse(raw) : {};
          } catch (e) {
            data = null;
          }
          if (!response.ok) {
            var message =
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
  }

  function convPath(id, action) {
    return "conversations/" + encodeURIComponent(id) + (action ? "/" + action : "");
  }

  // ---------------------------------------------------------------- messages to the agent

  function showError(message) {
    var area = $("error");
    if (area.textContent !== message) area.textContent = message;
  }

  function clearError() {
    $("error").textContent = "";
    state.pollError = false;
  }

  /** 401 anywhere: back to the sign-in form; anything else: the server's {"error"} text. */
  function handleError(err) {
    if (err && err.status === 401) {
      sessionExpired();
      return;
    }
    showError(err && err.message ? err.message : "Something went wrong.");
  }

  function announce(text) {
    var region = $("announcer");
    var line = el("p", null, text);
    region.appendChild(line);
    while (region.childNodes.length > 3) region.removeChild(region.firstChild);
  }

  // ---------------------------------------------------------------- views

  function isAdmin() {
    return !!(state.agent && state.agent.role === "admin");
  }

  /** "signin", "console" (queue and conversation) or "analytics" (admins). */
  function showView(name) {
    var inside = name === "console" || name === "analytics";
    $("loading").hidden = true;
    $("signin-view").hidden = name !== "signin";
    $("console-view").hidden = name !== "console";
    $("analytics-view").hidden = name !== "analytics";
    $("whoami").hidden = !inside;
    $("view-tabs").hidden = !inside || !isAdmin();
    setCurrentTab($("tab-console"), name === "console");
    setCurrentTab($("tab-analytics"), name === "analytics");
  }

  function setCurrentTab(tab, current) {
    if (current) tab.setAttribute("aria-current", "page");
    else tab.removeAttribute("aria-current");
  }

  function showSignin(message) {
    stopLive();
    resetConsole();
    state.agent = null;
    state.csrf = null;
    showView("signin");
    $("error").textContent = message || "";
    $("password").value = "";
    $("signin").disabled = false;
    $("username").focus();
  }

  function sessionExpired() {
    if (!state.agent && !$("signin-view").hidden) {
      showError(EXPIRED_TEXT);
      return;
    }
    showSignin(EXPIRED_TEXT);
  }

  function signedIn(data) {
    state.agent = data.agent || null;
    state.csrf = data.csrf_token || null;
    if (!state.agent) {
      showSignin("The server did not say who you are. Please sign in again.");
      return;
    }
    $("agent-name").textContent = state.agent.display_name || state.agent.username || "";
    var role = $("agent-role");
    role.textContent = state.agent.role === "admin" ? "admin" : "";
    role.hidden = state.agent.role !== "admin";
    showView("console");
    startLive();
    if (location.hash === "#analytics" && isAdmin()) {
      openAnalytics(false);
      return;
    }
    var wanted = idFromHash();
    if (wanted) openConversation(wanted, false);
  }

  function resetConsole() {
    state.queue = [];
    state.queueSignature = "";
    state.openId = null;
    state.openPreview = null;
    state.conv = null;
    state.seen = null;
    state.lastSeq = -1;
    state.convRequest += 1;
    state.busy = false;
    state.confirmingClose = false;
    $("queue").replaceChildren();
    $("queue-count").textContent = "";
    $("queue-empty").hidden = true;
    showPlaceholder("No conversation open", "Choose a conversation in the queue to read it and take it over.");
    $("reply-input").value = "";
    $("note-input").value = "";
    document.title = "ShopDesk agent console";
    state.intents = null;
    resetAnalytics();
  }

  // ---------------------------------------------------------------- sign in / out

  function onLogin(event) {
    event.preventDefault();
    var username = $("username").value.trim();
    var password = $("password").value;
    if (!username || !password) {
      showError("Enter your username and password.");
      (username ? $("password") : $("username")).focus();
      return;
    }
    clearError();
    $("signin").disabled = true;
    api("POST", "login", { username: username, password: password })
      .then(function (data) {
        $("password").value = "";
        signedIn(data);
      })
      .catch(function (err) {
        // A 401 here is a wrong username or password, not an expired session.
        showError(err.message || "Signing in failed.");
        $("password").focus();
      })
      .then(function () {
        $("signin").disabled = false;
      });
  }

  function onSignout() {
    clearError();
    var done = function () {
      showSignin("");
      if (location.hash) history.replaceState(null, "", location.pathname + location.search);
    };
    api("POST", "logout").then(done, done);
  }

  // ---------------------------------------------------------------- live updates

  function startLive() {
    stopLive();
    refreshQueue();
    state.pollTimer = setInterval(poll, POLL_MS);
    // The clocks show whole seconds; a 250 ms tick keeps them from skipping or stalling a second.
    state.tickTimer = setInterval(tick, 250);
    connectSocket();
  }

  function stopLive() {
    if (state.pollTimer) clearInterval(state.pollTimer);
    if (state.tickTimer) clearInterval(state.tickTimer);
    if (state.refetchTimer) clearTimeout(state.refetchTimer);
    state.pollTimer = state.tickTimer = state.refetchTimer = null;
    if (state.socket) {
      state.socket.off();
      state.socket.disconnect();
      state.socket = null;
    }
    setConnection("offline");
  }

  function setConnection(mode) {
    var node = $("conn-state");
    var text = { live: "live", polling: "polling every 5 s", offline: "offline" }[mode] || mode;
    node.textContent = text;
    node.className = "conn conn-" + mode;
    node.title = mode === "live" ? "Live updates are on" : "Live updates are off; the queue is refreshed every 5 seconds";
  }

  function connectSocket() {
    if (typeof window.io !== "function") {
      setConnection("polling");
      return;
    }
    var socket;
    try {
      socket = window.io(SOCKET_NAMESPACE, {
        path: SOCKET_PATH,
        withCredentials: true,
        // The cookie signs the socket in; the CSRF token is offered too, for a server that wants it.
        auth: function (cb) {
          cb({ csrf_token: state.csrf });
        }
      });
    } catch (e) {
      setConnection("polling");
      return;
    }
    state.socket = socket;
    setConnection("polling");
    socket.on("connect", function () {
      setConnection("live");
      // Catch up on anything missed while disconnected.
      refreshQueue();
      if (state.openId) refetchConversation();
    });
    socket.on("disconnect", function (reason) {
      setConnection("polling");
      // The server drops the socket of a session that ended (signed out in another tab, the
      // account disabled, expired): ask who we are; 401 shows the sign-in form, else reconnect.
      if (reason === "io server disconnect") {
        api("GET", "me").then(
          function () {
            if (state.socket === socket) socket.connect();
          },
          function (err) {
            if (err.status === 401 && state.socket === socket) handleError(err);
          }
        );
      }
    });
    socket.on("connect_error", function () {
      setConnection("polling");
    });
    socket.on("queue", function (data) {
      applyQueue(data);
    });
    socket.on("message", function (data) {
      onLiveMessage(data);
    });
  }

  function socketLive() {
    return !!(state.socket && state.socket.connected);
  }

  function poll() {
    refreshQueue(true);
    // The socket brings the messages of the conversations this agent holds, and only those;
    // any other open conversation (every one, without the socket) is read again here.
    if (state.openId && (!socketLive() || !holdingOpen()) && !state.busy) refetchConversation();
  }

  /** Whether this agent holds (has taken) the open conversation, so its messages come live. */
  function holdingOpen() {
    var h = state.conv && state.conv.handoff;
    return !!(h && h.status === "taken" && isMine(h));
  }

  // ---------------------------------------------------------------- queue

  function refreshQueue(fromPoll) {
    return api("GET", "queue")
      .then(function (data) {
        if (state.pollError) {
          state.pollError = false;
          if ($("error").textContent === NETWORK_TEXT) $("error").textContent = "";
        }
        applyQueue(data);
      })
      .catch(function (err) {
        if (err.status === 401) return handleError(err);
        if (fromPoll && err.status === 0) {
          state.pollError = true;
          showError(NETWORK_TEXT);
          return;
        }
        if (!fromPoll) handleError(err);
      });
  }

  function applyQueue(data) {
    if (!state.agent) return;
    var list = data && Array.isArray(data.conversations) ? data.conversations : [];
    state.queue = list;
    state.queueFetchedAt = now();
    var signature = JSON.stringify(
      list.map(function (e) {
        return [e.conversation_id, e.status, e.agent, e.reason, e.preview];
      })
    );
    if (signature !== state.queueSignature) {
      state.queueSignature = signature;
      renderQueue();
    }
    tick();
    checkOpenAgainstQueue();
  }

  function isMine(handoff) {
    return !!(handoff && state.agent && handoff.agent_id != null && handoff.agent_id === state.agent.id);
  }

  function queueStatusText(entry) {
    if (entry.status === "waiting") return "Waiting";
    if (entry.status === "taken") return isMine(entry) ? "Taken by you" : "Taken by " + (entry.agent || "another agent");
    return statusLabel(entry.status);
  }

  function renderQueue() {
    var ul = $("queue");
    var active = document.activeElement;
    var focusedId = active && active.classList && active.classList.contains("queue-entry") ? active.dataset.conversationId : null;
    ul.replaceChildren();
    var waiting = 0;
    state.queue.forEach(function (entry) {
      var id = String(entry.conversation_id);
      if (entry.status === "waiting") waiting += 1;
      var li = el("li");
      var button = el("button", "queue-entry status-" + safeClass(entry.status));
      button.type = "button";
      button.setAttribute("data-testid", "console-queue-entry");
      button.dataset.conversationId = id;
      if (id === state.openId) button.setAttribute("aria-current", "true");

      var top = el("span", "q-top");
      var badge = el("span", "badge badge-" + safeClass(entry.status) + (isMine(entry) ? " badge-mine" : ""), queueStatusText(entry));
      var clock = el("span", "q-clock");
      var time = el("span", "q-time");
      time.dataset.conversationId = id;
      clock.append(el("span", "sr-only", ", asked "), time, el("span", "sr-only", " ago, "));
      top.append(badge, clock);

      var reason = el("span", "q-reason", entry.reason ? entry.reason : "no reason given");
      var preview = el("span", "q-preview", entry.preview ? "“" + entry.preview + "”" : "(no message yet)");
      var convId = el("span", "q-id", id);
      button.append(top, reason, preview, convId);
      button.addEventListener("click", function () {
        openConversation(id, true);
      });
      li.appendChild(button);
      ul.appendChild(li);
    });
    $("queue-count").textContent = state.queue.length ? "(" + state.queue.length + ")" : "";
    $("queue-empty").hidden = state.queue.length > 0;
    document.title = (waiting ? "(" + waiting + ") " : "") + "ShopDesk agent console";
    if (focusedId) {
      var again = findQueueButton(focusedId);
      if (again) again.focus();
    }
  }

  function findQueueButton(id) {
    var buttons = $("queue").querySelectorAll(".queue-entry");
    for (var i = 0; i < buttons.length; i += 1) {
      if (buttons[i].dataset.conversationId === id) return buttons[i];
    }
    return null;
  }

  function markOpenInQueue() {
    var buttons = $("queue").querySelectorAll(".queue-entry");
    for (var i = 0; i < buttons.length; i += 1) {
      if (buttons[i].dataset.conversationId === state.openId) buttons[i].setAttribute("aria-current", "true");
      else buttons[i].removeAttribute("aria-current");
    }
  }

  /** When the queue says the open conversation changed hands or left, fetch it again. */
  function checkOpenAgainstQueue() {
    if (!state.openId || !state.conv || state.busy) return;
    var entry = null;
    for (var i = 0; i < state.queue.length; i += 1) {
      if (String(state.queue[i].conversation_id) === state.openId) entry = state.queue[i];
    }
    var h = state.conv.handoff;
    var shown = h ? h.status + "|" + (h.agent || "") : "none";
    if (entry) {
      // Not held here, the open conversation's new messages do not come live: a new preview
      // in the queue says the shopper wrote, so read it again now rather than at the next poll.
      var preview = String(entry.preview || "");
      var wrote = !holdingOpen() && state.openPreview !== null && preview !== state.openPreview;
      state.openPreview = preview;
      if (wrote || entry.status + "|" + (entry.agent || "") !== shown) scheduleRefetch();
    } else if (h && (h.status === "waiting" || h.status === "taken")) {
      scheduleRefetch();
    }
  }

  // ---------------------------------------------------------------- time

  function now() {
    return window.performance && performance.now ? performance.now() : Date.now();
  }

  function mmss(seconds) {
    var s = Math.max(0, Math.floor(Number(seconds) || 0));
    var m = Math.floor(s / 60);
    var r = s % 60;
    return (m < 10 ? "0" : "") + m + ":" + (r < 10 ? "0" : "") + r;
  }

  function tick() {
    var elapsed = (now() - state.queueFetchedAt) / 1000;
    var byId = {};
    state.queue.forEach(function (e) {
      byId[String(e.conversation_id)] = e;
    });
    var spans = $("queue").querySelectorAll(".q-time");
    for (var i = 0; i < spans.length; i += 1) {
      var entry = byId[spans[i].dataset.conversationId];
      if (!entry) continue;
      var text = mmss((Number(entry.waiting_s) || 0) + elapsed);
      if (spans[i].textContent !== text) spans[i].textContent = text;
    }
    renderConvStatus();
  }

  function formatWhen(value) {
    if (value === undefined || value === null || value === "") return "";
    var d = new Date(value);
    if (isNaN(d.getTime())) return String(value);
    try {
      return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
    } catch (e) {
      return d.toLocaleString();
    }
  }

  // ---------------------------------------------------------------- conversation

  function idFromHash() {
    var m = /^#c=(.+)$/.exec(location.hash || "");
    if (!m) return null;
    try {
      return decodeURIComponent(m[1]);
    } catch (e) {
      return null;
    }
  }

  function showPlaceholder(title, text) {
    $("conv").hidden = true;
    $("conv-placeholder").hidden = false;
    $("placeholder-title").textContent = title;
    $("placeholder-text").textContent = text;
  }

  function openConversation(id, byUser) {
    clearError();
    if (state.openId !== id || !state.conv) {
      // Never show one conversation's content while the buttons act on another.
      state.conv = null;
      state.seen = null;
      state.openPreview = null;
      state.confirmingClose = false;
      $("reply-input").value = "";
      $("note-input").value = "";
      showPlaceholder("Opening conversation…", id);
    }
    state.openId = id;
    markOpenInQueue();
    history.replaceState(null, "", "#c=" + encodeURIComponent(id));
    var request = ++state.convRequest;
    return api("GET", convPath(id))
      .then(function (data) {
        if (request !== state.convRequest || state.openId !== id) return;
        renderConversation(data, true);
        if (byUser) {
          $("conv-title").focus();
          announce("Opened conversation " + id);
        }
      })
      .catch(function (err) {
        if (request !== state.convRequest) return;
        if (!state.conv && state.agent) showPlaceholder("Could not open the conversation", id);
        handleError(err);
      });
  }

  function scheduleRefetch() {
    if (state.refetchTimer) return;
    state.refetchTimer = setTimeout(function () {
      state.refetchTimer = null;
      refetchConversation();
    }, 150);
  }

  function refetchConversation() {
    var id = state.openId;
    if (!id) return Promise.resolve();
    var request = ++state.convRequest;
    return api("GET", convPath(id))
      .then(function (data) {
        if (request !== state.convRequest || state.openId !== id) return;
        renderConversation(data, !state.conv);
      })
      .catch(function (err) {
        if (request !== state.convRequest) return;
        if (err.status === 401) return handleError(err);
        if (err.status !== 0) handleError(err);
      });
  }

  function senderLabel(message) {
    if (message.sender === "user") return "Shopper";
    if (message.sender === "bot") return "Bot";
    if (message.sender === "agent") {
      var name = message.agent_name || "Agent";
      return state.agent && name === state.agent.display_name ? name + " (you)" : name;
    }
    return String(message.sender || "Unknown");
  }

  function messageKey(message) {
    // A transient notice (not in the record) may reuse the last seq: never let it hide a message.
    if (message.transient || typeof message.seq !== "number") return "x" + JSON.stringify(message);
    return "s" + message.seq;
  }

  function recordedSeq(message) {
    return !message.transient && typeof message.seq === "number" ? message.seq : null;
  }

  function renderConversation(data, fresh) {
    var previous = state.conv;
    var conv = {
      conversation_id: data.conversation_id !== undefined ? String(data.conversation_id) : state.openId,
      handoff: data.handoff || null,
      summary: data.summary || {},
      messages: Array.isArray(data.messages) ? data.messages : [],
      notes: Array.isArray(data.notes) ? data.notes : [],
      corrections: Array.isArray(data.corrections) ? data.corrections : []
    };
    state.conv = conv;
    state.convFetchedAt = now();

    $("conv-placeholder").hidden = true;
    $("conv").hidden = false;
    $("conv-id").textContent = conv.conversation_id;

    if (fresh || !previous || JSON.stringify(previous.summary) !== JSON.stringify(conv.summary)) {
      renderSummary(conv.summary);
    }

    var transcript = $("transcript");
    if (fresh || !state.seen) {
      transcript.replaceChildren();
      state.seen = new Set();
      state.lastSeq = -1;
      conv.messages.forEach(function (m) {
        appendMessage(m, false);
      });
      if (!conv.messages.length) transcript.appendChild(el("li", "empty", "No messages yet."));
      scrollTranscript(true);
    } else {
      var unseen = conv.messages.filter(function (m) {
        return m && !state.seen.has(messageKey(m));
      });
      var outOfOrder = unseen.some(function (m) {
        var seq = recordedSeq(m);
        return seq !== null && seq < state.lastSeq;
      });
      if (outOfOrder) {
        renderConversation(data, true);
        return;
      }
      unseen.forEach(function (m) {
        appendMessage(m, true);
      });
    }

    decorateTranscript();
    if (fresh || !previous || JSON.stringify(previous.notes) !== JSON.stringify(conv.notes)) {
      renderNotes(conv.notes);
    }
    renderControls();
  }

  function renderSummary(summary) {
    var box = $("summary");
    box.replaceChildren();
    var dl = el("dl", "summary-list");

    function row(term, valueNode) {
      dl.appendChild(el("dt", null, term));
      var dd = el("dd");
      dd.appendChild(valueNode);
      dl.appendChild(dd);
    }
    function text(value, fallback) {
      var empty = value === undefined || value === null || value === "";
      return el("span", empty ? "none" : null, empty ? fallback : valueText(value));
    }

    row("Wanted", text(summary.wanted, "not known"));
    row("Order number", text(summary.order_number, "none"));

    var products = Array.isArray(summary.products_shown) ? summary.products_shown : [];
    if (products.length) {
      var ul = el("ul", "inline-list");
      products.forEach(function (name) {
        ul.appendChild(el("li", null, valueText(name)));
      });
      row("Products shown", ul);
    } else {
      row("Products shown", text(null, "none"));
    }

    var slots = summary.slots && typeof summary.slots === "object" ? summary.slots : {};
    var names = Object.keys(slots).filter(function (k) {
      return slots[k] !== null && slots[k] !== undefined && slots[k] !== "";
    });
    if (names.length) {
      var slotList = el("dl", "slots");
      names.sort().forEach(function (k) {
        var pair = el("div", "slot");
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

  function valueText(value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "object") {
      try {
        return JSON.stringify(value);
      } catch (e) {
        return String(value);
      }
    }
    return String(value);
  }

  function appendMessage(message, live) {
    if (!message || typeof message !== "object") return;
    var key = messageKey(message);
    if (state.seen.has(key)) return;
    state.seen.add(key);
    var seq = recordedSeq(message);
    if (seq !== null && seq > state.lastSeq) state.lastSeq = seq;

    var transcript = $("transcript");
    var placeholder = transcript.querySelector(".empty");
    if (placeholder) placeholder.remove();
    var atBottom = nearBottom(transcript);

    var sender = String(message.sender || "unknown");
    var li = el("li", "msg msg-" + safeClass(sender));
    li.setAttribute("data-testid", "console-message");
    li.setAttribute("data-sender", sender);
    if (seq !== null) li.dataset.seq = String(seq);

    var label = senderLabel(message);
    li.appendChild(el("div", "msg-sender", label));
    if (message.text !== undefined && message.text !== null && message.text !== "") {
      li.appendChild(el("div", "msg-text", message.text));
    }

    var attachment = message.attachment;
    if (attachment && typeof attachment === "object") {
      var payload = attachment.payload && typeof attachment.payload === "object" ? attachment.payload : {};
      var elements = Array.isArray(payload.elements) ? payload.elements : null;
      if (elements) {
        var box = el("div", "msg-products");
        box.appendChild(el("span", "msg-extra-label", elements.length === 1 ? "Product card:" : "Product cards:"));
        var ul = el("ul");
        elements.forEach(function (item) {
          var title = item && item.title ? item.title : "(untitled)";
          // a close match as the shopper saw it marked, with what it misses of the request
          var misses = item && Array.isArray(item.misses) ? item.misses.map(valueText).filter(Boolean) : [];
          var close = item && (item.exact === false || misses.length);
          var note = close ? " (close match" + (misses.length ? ": " + misses.join("; ") : "") + ")" : "";
          ul.appendChild(el("li", null, valueText(title) + note));
        });
        box.appendChild(ul);
        li.appendChild(box);
      } else {
        li.appendChild(el("div", "msg-extra", "[attachment: " + valueText(attachment.type || "unknown") + "]"));
      }
    }

    if (Array.isArray(message.quick_replies) && message.quick_replies.length) {
      var titles = message.quick_replies.map(function (q) {
        return q && (q.title || q.payload) ? valueText(q.title || q.payload) : "?";
      });
      li.appendChild(el("div", "msg-extra msg-buttons", "[buttons: " + titles.join(" | ") + "]"));
    }

    transcript.appendChild(li);
    if (live) {
      scrollTranscript(atBottom);
      var mine = sender === "agent" && state.agent && message.agent_name === state.agent.display_name;
      if (!mine) {
        var spoken = message.text ? String(message.text) : "(no text)";
        announce("New message from " + label + ": " + spoken);
      }
    }
  }

  function nearBottom(node) {
    return node.scrollHeight - node.scrollTop - node.clientHeight < 40;
  }

  function scrollTranscript(force) {
    var node = $("transcript");
    if (force) node.scrollTop = node.scrollHeight;
  }

  function onLiveMessage(data) {
    if (!data || !state.openId || !state.conv || !state.seen) return;
    if (String(data.conversation_id) !== state.openId) return;
    var message = data.message;
    if (!message || typeof message !== "object") return;
    if (state.seen.has(messageKey(message))) return;
    var seq = recordedSeq(message);
    if (seq !== null && state.lastSeq >= 0 && seq !== state.lastSeq + 1) {
      // A gap (or out of order): take the whole conversation again.
      scheduleRefetch();
      return;
    }
    state.conv.messages.push(message);
    appendMessage(message, true);
    // Live messages do not say how the bot read a shopper's message; the console's answer does.
    if (message.sender === "user" && message.intent === undefined) scheduleRefetch();
  }

  function renderNotes(notes) {
    var ul = $("notes");
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
    var li = el("li", "note");
    li.setAttribute("data-testid", "console-note");
    li.appendChild(el("div", "note-label", "Internal note — the shopper does not see this"));
    var meta = [note.agent ? valueText(note.agent) : "", formatWhen(note.at)].filter(Boolean).join(" · ");
    if (meta) li.appendChild(el("div", "note-meta", meta));
    li.appendChild(el("div", "note-text", note.text));
    return li;
  }

  // ---------------------------------------------------------------- status and buttons

  var STATUS_LABELS = {
    waiting: "Waiting for an agent",
    taken: "Taken",
    handed_back: "Handed back to the bot",
    closed: "Closed",
    timed_out: "Timed out: no agent took it in time"
  };

  function statusLabel(status) {
    return STATUS_LABELS[status] || String(status || "");
  }

  function renderConvStatus() {
    var node = $("conv-status");
    if (!state.conv) return;
    var h = state.conv.handoff;
    var text;
    if (!h) {
      text = "No handoff: the bot is handling this conversation.";
    } else if (h.status === "taken") {
      text = isMine(h) ? "Taken by you" : "Taken by " + (h.agent || "another agent");
    } else {
      text = statusLabel(h.status);
    }
    if (h && h.reason) text += " · reason: " + h.reason;
    if (h && h.status === "waiting") {
      text += " · waiting " + mmss((Number(h.waiting_s) || 0) + (now() - state.convFetchedAt) / 1000);
    }
    if (node.textContent !== text) node.textContent = text;
    node.className = "conv-status status-" + safeClass(h ? h.status : "none");
  }

  function renderControls() {
    var conv = state.conv;
    var h = conv ? conv.handoff : null;
    var status = h ? h.status : null;
    var mine = isMine(h);
    var busy = state.busy;

    var admin = !!(state.agent && state.agent.role === "admin");
    var canTake = status === "waiting";
    var owner = status === "taken" && mine;
    // As the server allows: a waiting handoff by anyone, a taken one by its owner or an admin.
    var canFinish = status === "waiting" || owner || (status === "taken" && admin);

    $("take").disabled = busy || !canTake;
    $("hand-back").disabled = busy || !canFinish;
    $("close").disabled = busy || !canFinish;
    $("reply-input").disabled = !owner;
    $("reply-send").disabled = busy || !owner;
    $("note-input").disabled = !conv;
    $("note-add").disabled = busy || !conv;

    if (!canFinish) state.confirmingClose = false;
    $("close-confirm").hidden = !state.confirmingClose;

    var hint;
    if (!h) hint = "The shopper has not asked for a person.";
    else if (status === "waiting") hint = "Take the conversation over to reply to the shopper.";
    else if (owner) hint = "You have this conversation: the bot is paused until you hand it back or close it.";
    else if (status === "taken" && admin) hint = (h.agent || "Another agent") + " has this conversation; as an admin you can hand it back or close it.";
    else if (status === "taken") hint = (h.agent || "Another agent") + " has this conversation; you can still add internal notes.";
    else hint = "This handoff is over; you can still add internal notes.";
    $("action-hint").textContent = hint;
    $("reply-input").placeholder = owner ? "Write to the shopper…" : "Take the conversation over to reply.";
    renderConvStatus();
  }

  function safeClass(value) {
    return String(value || "none").replace(/[^a-z0-9_-]/gi, "");
  }

  // ---------------------------------------------------------------- actions

  function runAction(action, body, onDone) {
    var id = state.openId;
    if (!id || state.busy) return Promise.resolve();
    clearError();
    state.busy = true;
    renderControls();
    return api("POST", convPath(id, action), body)
      .then(function (data) {
        state.busy = false;
        if (state.openId === id) onDone(data);
      })
      .catch(function (err) {
        state.busy = false;
        handleError(err);
        if (err.status === 409 && state.openId === id) {
          // Someone else has it: show who, from the conversation as it is now.
          refetchConversation();
        }
        throw err;
      })
      .then(
        function () {
          if (state.agent) renderControls();
        },
        function () {
          if (state.agent) renderControls();
        }
      );
  }

  function setHandoff(data) {
    if (data && data.handoff && state.conv) {
      state.conv.handoff = data.handoff;
      state.convFetchedAt = now();
    }
    refreshQueue();
    // The server tells the shopper (a greeting, a goodbye): show it without waiting for a poll.
    scheduleRefetch();
  }

  function onTake() {
    runAction("take", undefined, function (data) {
      setHandoff(data);
      renderControls();
      announce("You have taken over this conversation.");
      $("reply-input").focus();
    });
  }

  function onHandBack() {
    runAction("hand_back", undefined, function (data) {
      setHandoff(data);
      announce("Handed back to the bot.");
      $("conv-title").focus();
    });
  }

  function onClose() {
    state.confirmingClose = true;
    renderControls();
    $("close-yes").focus();
  }

  function onCloseCancel() {
    state.confirmingClose = false;
    renderControls();
    $("close").focus();
  }

  function onCloseConfirm() {
    state.confirmingClose = false;
    runAction("close", undefined, function (data) {
      setHandoff(data);
      announce("Conversation closed.");
      $("conv-title").focus();
    });
  }

  function onReply(event) {
    event.preventDefault();
    var input = $("reply-input");
    var text = input.value.trim();
    if (!text) {
      showError("Write a reply first.");
      input.focus();
      return;
    }
    runAction("reply", { text: text }, function (data) {
      input.value = "";
      if (data && data.message && state.conv && state.seen) {
        if (!state.seen.has(messageKey(data.message))) {
          state.conv.messages.push(data.message);
          appendMessage(data.message, true);
        }
        scrollTranscript(true);
      }
    })
      .catch(function () {})
      .then(function () {
        if (!input.disabled) input.focus();
      });
  }

  function onNote(event) {
    event.preventDefault();
    var input = $("note-input");
    var text = input.value.trim();
    if (!text) {
      showError("Write the note first.");
      input.focus();
      return;
    }
    runAction("note", { text: text }, function (data) {
      input.value = "";
      if (data && data.note && state.conv) {
        state.conv.notes.push(data.note);
        renderNotes(state.conv.notes);
        announce("Note added.");
      }
    })
      .catch(function () {})
      .then(function () {
        if (!input.disabled) input.focus();
      });
  }

  /** Enter submits a composer; Shift+Enter keeps a new line. */
  function submitOnEnter(form) {
    return function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        if (typeof form.requestSubmit === "function") form.requestSubmit();
        else form.dispatchEvent(new Event("submit", { cancelable: true }));
      }
    };
  }

  // ---------------------------------------------------------------- misread messages

  /** How the bot read each shopper message, a "Misunderstood?" control on the bot's answer to
   * it, and the agents' verdicts. Idempotent: runs after every render of the transcript. */
  function decorateTranscript() {
    if (!state.conv) return;
    var transcript = $("transcript");
    var pending = null; // the shopper message the next bot turn answers
    state.conv.messages.forEach(function (m) {
      var seq = recordedSeq(m);
      if (seq === null || !m) return;
      var li = transcript.querySelector('li[data-seq="' + seq + '"]');
      if (!li) return;
      if (m.sender === "user") {
        pending = null;
        if (typeof m.intent !== "string") return;
        if (!li.querySelector(".msg-intent")) li.appendChild(intentLine(m));
        if (!li.querySelector(".msg-marked")) {
          var marked = el("div", "msg-marked");
          marked.setAttribute("data-testid", "console-marked");
          marked.dataset.seq = String(seq);
          marked.hidden = true;
          li.appendChild(marked);
        }
        if (m.markable !== false) pending = { seq: seq, text: m.text };
      } else {
        if (m.sender === "bot" && pending && !li.querySelector(".misread")) {
          li.appendChild(misreadControl(pending.seq, pending.text));
        }
        pending = null;
      }
    });
    renderMarks();
  }

  function intentLine(message) {
    var line = el("div", "msg-intent");
    line.setAttribute("data-testid", "console-intent");
    var text = message.intent ? "read as " + message.intent : "read as no intent";
    if (typeof message.confidence === "number") text += " · " + Math.round(message.confidence * 100) + " %";
    line.textContent = text;
    return line;
  }

  function correctionFor(seq) {
    var list = state.conv ? state.conv.corrections : [];
    for (var i = 0; i < list.length; i += 1) {
      if (list[i] && list[i].seq === seq) return list[i];
    }
    return null;
  }

  function renderMarks() {
    var nodes = $("transcript").querySelectorAll(".msg-marked");
    for (var i = 0; i < nodes.length; i += 1) {
      var node = nodes[i];
      var seq = Number(node.dataset.seq);
      var c = correctionFor(seq);
      var signature = c ? JSON.stringify([c.intent, c.is_new_intent, c.agent]) : "";
      if (node.dataset.signature === signature) continue;
      node.dataset.signature = signature;
      node.replaceChildren();
      node.hidden = !c;
      if (!c) continue;
      var text = "marked: " + valueText(c.intent) + (c.is_new_intent ? " (new intent)" : "");
      if (c.agent) text += " · by " + valueText(c.agent);
      node.appendChild(el("span", null, text));
      var undo = el("button", "btn-link", "Undo");
      undo.type = "button";
      undo.setAttribute("data-testid", "console-marked-undo");
      undo.setAttribute("aria-label", "Undo: " + text);
      undo.addEventListener("click", unmarkHandler(seq));
      node.appendChild(undo);
    }
  }

  function misreadControl(seq, shopperText) {
    var box = el("div", "misread");
    var toggle = el("button", "btn-link misread-toggle", "Misunderstood?");
    toggle.type = "button";
    toggle.dataset.seq = String(seq);
    toggle.setAttribute("data-testid", "console-misread");
    toggle.setAttribute("aria-expanded", "false");
    toggle.setAttribute("aria-controls", "misread-form-" + seq);
    toggle.setAttribute("aria-label", "Misunderstood? Mark how the bot read the shopper's message");
    toggle.addEventListener("click", function () {
      var open = box.querySelector("form");
      if (open) closeMisread(box, toggle);
      else openMisread(box, toggle, seq, shopperText);
    });
    box.appendChild(toggle);
    return box;
  }

  function loadIntents() {
    if (!state.intents) {
      state.intents = api("GET", "intents").then(
        function (data) {
          return Array.isArray(data.intents) ? data.intents : [];
        },
        function (err) {
          state.intents = null; // try again next time
          throw err;
        }
      );
    }
    return state.intents;
  }

  function openMisread(box, toggle, seq, shopperText) {
    var form = el("form", "misread-form");
    form.id = "misread-form-" + seq;
    form.noValidate = true;
    form.setAttribute("data-testid", "console-misread-form");
    var quoted = String(shopperText || "");
    if (quoted.length > 80) quoted = quoted.slice(0, 79) + "…";
    form.appendChild(el("p", "misread-hint", "What did the shopper mean by “" + quoted + "”?"));

    var selectId = "misread-intent-" + seq;
    var row = el("div", "misread-row");
    var pick = el("div", "field-inline");
    var pickLabel = el("label", null, "Right intent");
    pickLabel.htmlFor = selectId;
    var select = el("select");
    select.id = selectId;
    select.setAttribute("data-testid", "console-misread-intent");
    select.appendChild(new Option("Loading intents…", ""));
    pick.append(pickLabel, select);

    var inputId = "misread-new-" + seq;
    var fresh = el("div", "field-inline");
    var freshLabel = el("label", null, "or a new intent");
    freshLabel.htmlFor = inputId;
    var input = el("input");
    input.type = "text";
    input.id = inputId;
    input.placeholder = "gift_wrapping";
    input.autocomplete = "off";
    input.spellcheck = false;
    input.maxLength = 64;
    input.setAttribute("data-testid", "console-misread-new");
    fresh.append(freshLabel, input);

    var save = el("button", "btn btn-primary btn-small", "Save");
    save.type = "submit";
    save.setAttribute("data-testid", "console-misread-save");
    var cancel = el("button", "btn btn-small", "Cancel");
    cancel.type = "button";
    row.append(pick, fresh, save, cancel);
    form.appendChild(row);
    var problem = el("p", "misread-error");
    problem.setAttribute("role", "alert");
    form.appendChild(problem);

    cancel.addEventListener("click", function () {
      closeMisread(box, toggle);
    });
    form.addEventListener("keydown", function (event) {
      if (event.key === "Escape") closeMisread(box, toggle);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      submitMisread(form, box, toggle, seq, select, input, save, problem);
    });

    box.appendChild(form);
    toggle.setAttribute("aria-expanded", "true");
    select.focus();
    loadIntents().then(
      function (intents) {
        var current = correctionFor(seq);
        select.replaceChildren(new Option("Choose an intent…", ""));
        intents.forEach(function (name) {
          select.appendChild(new Option(String(name), String(name)));
        });
        if (current && !current.is_new_intent) select.value = String(current.intent);
        if (current && current.is_new_intent) input.value = String(current.intent);
      },
      function (err) {
        if (err.status === 401) return handleError(err);
        select.replaceChildren(new Option("(the list could not be loaded)", ""));
        problem.textContent = err.message || "The list of intents could not be loaded.";
      }
    );
  }

  function closeMisread(box, toggle) {
    var form = box.querySelector("form");
    if (form) form.remove();
    toggle.setAttribute("aria-expanded", "false");
    toggle.focus();
  }

  function submitMisread(form, box, toggle, seq, select, input, save, problem) {
    var chosen = select.value;
    var typed = input.value.trim();
    problem.textContent = "";
    if (!chosen && !typed) {
      problem.textContent = "Choose the right intent, or type a new intent name.";
      select.focus();
      return;
    }
    if (chosen && typed) {
      problem.textContent = "Choose an intent from the list or type a new one, not both.";
      input.focus();
      return;
    }
    var id = state.openId;
    var body = chosen ? { seq: seq, intent: chosen } : { seq: seq, new_intent: typed };
    save.disabled = true;
    api("POST", convPath(id, "corrections"), body)
      .then(function (data) {
        if (state.openId !== id || !state.conv) return;
        setCorrection(seq, data.correction || null);
        closeMisread(box, toggle);
        announce("Marked the shopper's message as " + (data.correction ? data.correction.intent : "misunderstood") + ".");
      })
      .catch(function (err) {
        if (err.status === 401) return handleError(err);
        problem.textContent = err.message || "Saving failed.";
      })
      .then(function () {
        save.disabled = false;
      });
  }

  function setCorrection(seq, correction) {
    state.conv.corrections = state.conv.corrections.filter(function (c) {
      return c && c.seq !== seq;
    });
    if (correction) state.conv.corrections.push(correction);
    renderMarks();
  }

  function unmarkHandler(seq) {
    return function (event) {
      var button = event.currentTarget;
      var id = state.openId;
      button.disabled = true;
      clearError();
      api("DELETE", convPath(id, "corrections/" + seq))
        .then(function () {
          if (state.openId !== id || !state.conv) return;
          setCorrection(seq, null);
          announce("The mark was removed.");
          var toggle = $("transcript").querySelector('.misread-toggle[data-seq="' + seq + '"]');
          if (toggle) toggle.focus();
        })
        .catch(function (err) {
          button.disabled = false;
          handleError(err);
        });
    };
  }

  // ---------------------------------------------------------------- analytics (admins)

  var COLORS = {
    contained: "#2f6b3a",
    handoff: "#a35200",
    other: "#8b93a3",
    fallback: "#b3261e",
    zero: "#1f5fbf",
    bars: "#1f5fbf",
    p95: "#a35200"
  };

  function showConsole(byUser) {
    showView("console");
    history.replaceState(null, "", state.openId ? "#c=" + encodeURIComponent(state.openId) : location.pathname + location.search);
    if (byUser) $("tab-console").focus();
  }

  function openAnalytics(byUser) {
    if (!isAdmin()) return;
    showView("analytics");
    if (location.hash !== "#analytics") history.replaceState(null, "", "#analytics");
    if (!state.analytics) {
      if (!$("range-from").value && !$("range-to").value) setLastDays(28); // the server's default
      loadAnalytics();
    }
    if (byUser) $("analytics-title").focus();
  }

  function resetAnalytics() {
    state.analytics = null;
    state.analyticsRequest += 1;
    Object.keys(state.charts).forEach(function (id) {
      state.charts[id].destroy();
    });
    state.charts = {};
    $("kpis").replaceChildren();
    ["table-intents", "table-reasons", "table-zero", "table-ratings", "table-days"].forEach(function (id) {
      $(id).tBodies[0].replaceChildren();
    });
    $("analytics-status").textContent = "";
    $("range-from").value = "";
    $("range-to").value = "";
  }

  function isoDay(d) {
    var m = d.getMonth() + 1;
    var day = d.getDate();
    return d.getFullYear() + "-" + (m < 10 ? "0" : "") + m + "-" + (day < 10 ? "0" : "") + day;
  }

  function dayFromIso(text) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(text || ""));
    return m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : null;
  }

  function dayLabel(text, withYear) {
    var d = dayFromIso(text);
    if (!d) return String(text || "");
    var options = withYear ? { day: "numeric", month: "short", year: "numeric" } : { day: "numeric", month: "short" };
    try {
      return d.toLocaleDateString(undefined, options);
    } catch (e) {
      return String(text);
    }
  }

  function setLastDays(days) {
    var today = new Date();
    var from = new Date(today.getFullYear(), today.getMonth(), today.getDate() - (days - 1));
    $("range-from").value = isoDay(from);
    $("range-to").value = isoDay(today);
  }

  function quickRange(days) {
    setLastDays(days);
    loadAnalytics();
  }

  function rangeQuery(from, to) {
    var parts = [];
    if (from) parts.push("from=" + encodeURIComponent(from));
    if (to) parts.push("to=" + encodeURIComponent(to));
    return parts.join("&");
  }

  function loadAnalytics() {
    var query = rangeQuery($("range-from").value, $("range-to").value);
    var request = ++state.analyticsRequest;
    clearError();
    $("analytics-status").textContent = "Loading…";
    return api("GET", "analytics" + (query ? "?" + query : ""))
      .then(function (data) {
        if (request !== state.analyticsRequest || !state.agent) return;
        state.analytics = data;
        renderAnalytics(data);
      })
      .catch(function (err) {
        if (request !== state.analyticsRequest) return;
        $("analytics-status").textContent = "";
        handleError(err);
      });
  }

  function num(value) {
    return typeof value === "number" && isFinite(value) ? value : null;
  }

  function plural(n, one, many) {
    return count(n) + " " + (num(n) === 1 ? one : many);
  }

  function count(value) {
    var n = num(value);
    return n === null ? "0" : n.toLocaleString();
  }

  function percent(rate) {
    var n = num(rate);
    return n === null ? "–" : (Math.round(n * 1000) / 10).toLocaleString() + " %";
  }

  function ratio(part, whole) {
    var p = num(part);
    var w = num(whole);
    return p === null || !w ? null : Math.round((p / w) * 1000) / 10;
  }

  function trendText(trend) {
    var n = num(trend);
    if (n === null) return { arrow: "", text: "–", label: "no trend" };
    var rounded = Math.round(n * 100);
    var arrow = rounded > 0 ? "↑" : rounded < 0 ? "↓" : "→";
    var text = Math.abs(rounded) + " %"; // the arrow says which way
    var label = rounded > 0 ? "rising " + rounded + " %" : rounded < 0 ? "falling " + -rounded + " %" : "steady";
    return { arrow: arrow, text: text, label: label };
  }

  function renderAnalytics(data) {
    var totals = data.totals || {};
    var days = Array.isArray(data.days) ? data.days : [];
    // what the agent typed meanwhile stays; empty fields show the range the server chose
    if (!$("range-from").value) $("range-from").value = data.from || "";
    if (!$("range-to").value) $("range-to").value = data.to || "";
    $("analytics-status").textContent =
      "From " + dayLabel(data.from, true) + " to " + dayLabel(data.to, true) + " (" + days.length + (days.length === 1 ? " day)" : " days)");

    var query = rangeQuery(data.from, data.to);
    var links = $("analytics-view").querySelectorAll("a.csv");
    for (var i = 0; i < links.length; i += 1) {
      links[i].href = API + "analytics.csv?" + query + "&table=" + encodeURIComponent(links[i].dataset.table);
    }
    renderKpis(totals);
    renderAnalyticsTables(data, days);
    renderCharts(data, days);
  }

  function renderKpis(t) {
    var avg = num(t.rating_average);
    var shareText = num(t.rated_share) !== null ? ", " + percent(t.rated_share) + " of conversations" : "";
    var wait = num(t.agent_wait_p50_s);
    var tiles = [
      ["conversations", "Conversations", count(t.conversations), "in this range"],
      ["containment", "Contained", percent(t.containment_rate), count(t.contained) + " finished without a person"],
      ["handoff", "Handed to a person", percent(t.handoff_rate),
        plural(t.handoffs, "handoff", "handoffs") + (num(t.handoffs_timed_out) ? ", " + count(t.handoffs_timed_out) + " timed out" : "")],
      ["fallback", "Not understood", percent(t.fallback_rate), count(t.fallbacks) + " of " + plural(t.shopper_messages, "shopper message", "shopper messages")],
      ["zero-results", "Searches with no results", percent(t.zero_result_rate),
        count(t.zero_result_searches) + " of " + plural(t.searches, "search", "searches")],
      ["rating", "Average rating", avg === null ? "–" : avg.toFixed(1) + " ★", plural(t.ratings, "rating", "ratings") + shareText],
      ["reply", "Bot reply time", num(t.reply_p50_ms) === null ? "–" : count(Math.round(t.reply_p50_ms)) + " ms",
        num(t.reply_p95_ms) === null ? "median" : "median; 95 % within " + count(Math.round(t.reply_p95_ms)) + " ms"],
      ["wait", "Wait for an agent", wait === null ? "–" : mmss(wait), "median, minutes:seconds"]
    ];
    var box = $("kpis");
    box.replaceChildren();
    tiles.forEach(function (tile) {
      var div = el("div", "kpi");
      div.setAttribute("data-testid", "analytics-kpi-" + tile[0]);
      div.appendChild(el("dt", "kpi-label", tile[1]));
      var value = el("dd", "kpi-value", tile[2]);
      value.setAttribute("data-testid", "analytics-kpi-value");
      div.appendChild(value);
      div.appendChild(el("dd", "kpi-detail", tile[3]));
      box.appendChild(div);
    });
  }

  function fillTable(id, rows, columns) {
    var body = $(id).tBodies[0];
    body.replaceChildren();
    if (!rows.length) {
      var tr = el("tr", "empty-row");
      var td = el("td", null, "Nothing in this range.");
      td.colSpan = columns;
      tr.appendChild(td);
      body.appendChild(tr);
      return;
    }
    rows.forEach(function (cells) {
      var tr = el("tr");
      cells.forEach(function (cell, index) {
        var td = el(index === 0 ? "th" : "td", cell.className || null, cell.text);
        if (index === 0) td.scope = "row";
        if (cell.label) td.setAttribute("aria-label", cell.label);
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  function renderAnalyticsTables(data, days) {
    var intents = Array.isArray(data.top_intents) ? data.top_intents : [];
    fillTable("table-intents", intents.map(function (row) {
      var trend = trendText(row.trend);
      return [
        { text: valueText(row.intent) },
        { text: count(row.count), className: "num" },
        { text: percent(row.share), className: "num" },
        { text: (trend.arrow ? trend.arrow + " " : "") + trend.text, className: "num trend", label: trend.label }
      ];
    }), 4);
    var reasons = Array.isArray(data.handoff_reasons) ? data.handoff_reasons : [];
    fillTable("table-reasons", reasons.map(function (row) {
      return [{ text: valueText(row.reason) || "(no reason)" }, { text: count(row.count), className: "num" }];
    }), 2);
    var zero = Array.isArray(data.zero_result_queries) ? data.zero_result_queries : [];
    fillTable("table-zero", zero.map(function (row) {
      return [{ text: valueText(row.query) }, { text: count(row.count), className: "num" }, { text: formatWhen(row.last_at) }];
    }), 3);
    var ratings = data.ratings && typeof data.ratings === "object" ? data.ratings : {};
    fillTable("table-ratings", ["5", "4", "3", "2", "1"].map(function (stars) {
      return [{ text: stars + " ★", label: stars + (stars === "1" ? " star" : " stars") }, { text: count(ratings[stars]), className: "num" }];
    }), 2);
    fillTable("table-days", days.map(function (d) {
      var avg = num(d.rating_average);
      return [
        { text: dayLabel(d.date, true) },
        { text: count(d.conversations), className: "num" },
        { text: count(d.contained), className: "num" },
        { text: count(d.handoffs), className: "num" },
        { text: count(d.shopper_messages), className: "num" },
        { text: count(d.fallbacks), className: "num" },
        { text: count(d.searches), className: "num" },
        { text: count(d.zero_result_searches), className: "num" },
        { text: count(d.ratings), className: "num" },
        { text: avg === null ? "–" : avg.toFixed(1), className: "num" },
        { text: num(d.reply_p50_ms) === null ? "–" : count(Math.round(d.reply_p50_ms)), className: "num" },
        { text: num(d.reply_p95_ms) === null ? "–" : count(Math.round(d.reply_p95_ms)), className: "num" }
      ];
    }), 12);
  }

  function chartsAvailable() {
    var ok = typeof window.Chart === "function";
    $("charts").hidden = !ok;
    $("charts-missing").hidden = ok;
    if (!ok) $("days-details").open = true;
    return ok;
  }

  function drawChart(id, config, label) {
    if (state.charts[id]) state.charts[id].destroy();
    var canvas = $(id);
    canvas.setAttribute("aria-label", label);
    config.options = Object.assign(
      { animation: false, responsive: true, maintainAspectRatio: false, plugins: { legend: { position: "bottom" } } },
      config.options || {}
    );
    try {
      state.charts[id] = new window.Chart(canvas, config);
    } catch (e) {
      delete state.charts[id];
    }
  }

  function renderCharts(data, days) {
    if (!chartsAvailable()) return;
    var t = data.totals || {};
    var labels = days.map(function (d) {
      return dayLabel(d.date, false);
    });
    var range = dayLabel(data.from, true) + " to " + dayLabel(data.to, true);
    var whole = { precision: 0 };

    var other = days.map(function (d) {
      return Math.max(0, (num(d.conversations) || 0) - (num(d.contained) || 0) - (num(d.handoffs) || 0));
    });
    var volume = [
      { label: "Contained", data: days.map(function (d) { return num(d.contained) || 0; }), backgroundColor: COLORS.contained },
      { label: "Handed off", data: days.map(function (d) { return num(d.handoffs) || 0; }), backgroundColor: COLORS.handoff }
    ];
    if (other.some(function (n) { return n > 0; })) {
      volume.push({ label: "Other", data: other, backgroundColor: COLORS.other });
    }
    drawChart("chart-volume", {
      type: "bar",
      data: { labels: labels, datasets: volume },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: whole } } }
    }, "Conversations per day, " + range + ": " + count(t.conversations) + " in all, " + count(t.contained) +
      " contained and " + count(t.handoffs) + " handed off.");

    function line(label, color, values) {
      return { label: label, data: values, borderColor: color, backgroundColor: color, spanGaps: true, tension: 0.2, pointRadius: 2 };
    }
    drawChart("chart-rates", {
      type: "line",
      data: {
        labels: labels,
        datasets: [
          line("Handoff rate", COLORS.handoff, days.map(function (d) { return ratio(d.handoffs, d.conversations); })),
          line("Fallback rate", COLORS.fallback, days.map(function (d) { return ratio(d.fallbacks, d.shopper_messages); })),
          line("Zero-result rate", COLORS.zero, days.map(function (d) { return ratio(d.zero_result_searches, d.searches); }))
        ]
      },
      options: {
        scales: { y: { beginAtZero: true, suggestedMax: 100, ticks: { callback: function (v) { return v + " %"; } } } }
      }
    }, "Rates per day, " + range + ": handoffs " + percent(t.handoff_rate) + " of conversations, fallbacks " +
      percent(t.fallback_rate) + " of shopper messages, searches with no results " + percent(t.zero_result_rate) + ".");

    var intents = (Array.isArray(data.top_intents) ? data.top_intents : []).slice(0, 10);
    drawChart("chart-intents", {
      type: "bar",
      data: {
        labels: intents.map(function (row) {
          var trend = trendText(row.trend);
          return valueText(row.intent) + (trend.arrow ? " " + trend.arrow + " " + trend.text : "");
        }),
        datasets: [{ label: "Messages", data: intents.map(function (row) { return num(row.count) || 0; }), backgroundColor: COLORS.bars }]
      },
      options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: whole } } }
    }, intents.length ? "Top intents, " + range + ": " + intents.slice(0, 5).map(function (row) {
      return valueText(row.intent) + " " + count(row.count) + " (" + trendText(row.trend).label + ")";
    }).join(", ") + "." : "Top intents: none in this range.");

    var ratings = data.ratings && typeof data.ratings === "object" ? data.ratings : {};
    var stars = ["1", "2", "3", "4", "5"];
    drawChart("chart-ratings", {
      type: "bar",
      data: {
        labels: stars.map(function (s) { return s + " ★"; }),
        datasets: [{ label: "Ratings", data: stars.map(function (s) { return num(ratings[s]) || 0; }), backgroundColor: COLORS.contained }]
      },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: whole } } }
    }, "Ratings, " + range + ": " + stars.slice().reverse().map(function (s) {
      return s + " stars " + count(ratings[s]);
    }).join(", ") + ".");

    drawChart("chart-replies", {
      type: "line",
      data: {
        labels: labels,
        datasets: [
          line("Median (p50)", COLORS.bars, days.map(function (d) { return num(d.reply_p50_ms); })),
          line("95th percentile", COLORS.p95, days.map(function (d) { return num(d.reply_p95_ms); }))
        ]
      },
      options: { scales: { y: { beginAtZero: true, ticks: { callback: function (v) { return v + " ms"; } } } } }
    }, "Bot reply time per day, " + range + ": median " + (num(t.reply_p50_ms) === null ? "not known" : count(Math.round(t.reply_p50_ms)) + " ms") +
      ", 95th percentile " + (num(t.reply_p95_ms) === null ? "not known" : count(Math.round(t.reply_p95_ms)) + " ms") + ".");
  }

  // ---------------------------------------------------------------- start

  function init() {
    $("login-form").addEventListener("submit", onLogin);
    $("signout").addEventListener("click", onSignout);
    $("queue-refresh").addEventListener("click", function () {
      clearError();
      refreshQueue();
      if (state.openId) refetchConversation();
    });
    $("take").addEventListener("click", onTake);
    $("hand-back").addEventListener("click", onHandBack);
    $("close").addEventListener("click", onClose);
    $("close-yes").addEventListener("click", onCloseConfirm);
    $("close-no").addEventListener("click", onCloseCancel);
    $("close-confirm").addEventListener("keydown", function (event) {
      if (event.key === "Escape") onCloseCancel();
    });
    $("reply-form").addEventListener("submit", onReply);
    $("note-form").addEventListener("submit", onNote);
    $("reply-input").addEventListener("keydown", submitOnEnter($("reply-form")));
    $("note-input").addEventListener("keydown", submitOnEnter($("note-form")));
    $("tab-console").addEventListener("click", function () {
      showConsole(true);
    });
    $("tab-analytics").addEventListener("click", function () {
      openAnalytics(true);
    });
    $("range-form").addEventListener("submit", function (event) {
      event.preventDefault();
      loadAnalytics();
    });
    var quick = $("range-form").querySelectorAll("[data-days]");
    for (var i = 0; i < quick.length; i += 1) {
      quick[i].addEventListener("click", function (event) {
        quickRange(Number(event.currentTarget.dataset.days));
      });
    }
    window.addEventListener("hashchange", function () {
      if (!state.agent) return;
      if (location.hash === "#analytics") {
        if (isAdmin() && $("analytics-view").hidden) openAnalytics(false);
        return;
      }
      var id = idFromHash();
      if (id && !$("analytics-view").hidden) showView("console");
      if (id && id !== state.openId) openConversation(id, false);
    });

    api("GET", "me")
      .then(signedIn)
      .catch(function (err) {
        if (err.status === 401) showSignin("");
        else showSignin(err.message);
      });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
