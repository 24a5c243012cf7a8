/* Live updates: the console's socket (namespace /agent: the queue, and the messages of the
 * conversations this agent holds), a poll every POLL_MS as the fallback, and the clock tick.
 * State: `c.live`. */

import { $ } from "./dom.js";
import { holdingOpen, onLiveMessage, refetchConversation } from "./conversation.js";
import { onInboxNotice, refreshInboxCounts } from "./inbox.js";
import { handleError } from "./notices.js";
import { applyQueue, refreshQueue, tick } from "./queue.js";

const SOCKET_NAMESPACE = "/agent";
const SOCKET_PATH = "/socket.io/";
const POLL_MS = 5000;
const TICK_MS = 250; // the clocks show whole seconds; 250 ms keeps them from skipping or stalling

export function createLiveState() {
  return { socket: null, pollTimer: null, tickTimer: null };
}

export function startLive(c) {
  stopLive(c);
  refreshQueue(c);
  refreshInboxCounts(c, false);
  c.live.pollTimer = setInterval(poll, POLL_MS, c);
  c.live.tickTimer = setInterval(tick, TICK_MS, c);
  connectSocket(c);
}

export function stopLive(c) {
  const live = c.live;
  if (live.pollTimer) clearInterval(live.pollTimer);
  if (live.tickTimer) clearInterval(live.tickTimer);
  if (c.conv.refetchTimer) clearTimeout(c.conv.refetchTimer);
  live.pollTimer = live.tickTimer = c.conv.refetchTimer = null;
  if (live.socket) {
    live.socket.off();
    live.socket.disconnect();
    live.socket = null;
  }
  setConnection("offline");
}

function setConnection(mode) {
  const node = $("conn-state");
  const text = { live: "live", polling: "polling every 5 s", offline: "offline" }[mode] || mode;
  node.textContent = text;
  node.className = "conn conn-" + mode;
  node.title =
    mode === "live" ? "Live updates are on" : "Live updates are off; the queue is refreshed every 5 seconds";
}

function connectSocket(c) {
  if (typeof window.io !== "function") {
    setConnection("polling");
    return;
  }
  let socket;
  try {
    socket = window.io(SOCKET_NAMESPACE, {
      path: SOCKET_PATH,
      withCredentials: true,
      // The cookie signs the socket in; the CSRF token is offered too, for a server that wants it.
      auth: function (cb) {
        cb({ csrf_token: c.session.csrf });
      },
    });
  } catch {
    setConnection("polling");
    return;
  }
  c.live.socket = socket;
  setConnection("polling");
  socket.on("connect", function () {
    setConnection("live");
    // Catch up on anything missed while disconnected.
    refreshQueue(c);
    if (c.conv.openId) refetchConversation(c);
  });
  socket.on("disconnect", function (reason) {
    setConnection("polling");
    // The server drops the socket of a session that ended (signed out in another tab, the
    // account disabled, expired): ask who we are; 401 shows the sign-in form, else reconnect.
    if (reason === "io server disconnect") {
      c.api("GET", "me").then(
        function () {
          if (c.live.socket === socket) socket.connect();
        },
        function (err) {
          if (err.status === 401 && c.live.socket === socket) handleError(c, err);
        }
      );
    }
  });
  socket.on("connect_error", function () {
    setConnection("polling");
  });
  socket.on("queue", (data) => applyQueue(c, data));
  socket.on("message", (data) => onLiveMessage(c, data));
  socket.on("inbox", (data) => onInboxNotice(c, data)); // something new for the team
}

function socketLive(c) {
  return !!(c.live.socket && c.live.socket.connected);
}

function poll(c) {
  refreshQueue(c, true);
  if (!socketLive(c)) refreshInboxCounts(c, true); // without the socket, a rise is the notice
  // The socket brings the messages of the conversations this agent holds, and only those;
  // any other open conversation (every one, without the socket) is read again here.
  if (c.conv.openId && (!socketLive(c) || !holdingOpen(c)) && !c.conv.busy) refetchConversation(c);
}
