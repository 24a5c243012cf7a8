/* The conversation open on the right: opening and re-reading it, rendering it, its status
 * line and which buttons the agent may use. Its state is `c.conv` (createConversationState). */

import { convPath } from "./api.js";
import { $, announce, mmss, now, safeClass } from "./dom.js";
import { decorateTranscript } from "./misread.js";
import { clearError, handleError } from "./notices.js";
import { isMine } from "./session.js";
import { appendMessage, messageKey, recordedSeq, renderNotes, renderSummary, scrollTranscript } from "./transcript.js";

export function createConversationState() {
  return {
    openId: null, // conversation id open on the right
    openPreview: null, // the queue's preview of the open conversation, when last seen
    current: null, // the Conversation (messages/notes as rendered so far)
    fetchedAt: 0,
    seen: null, // Set of message keys in the transcript
    lastSeq: -1,
    request: 0, // drops stale conversation answers
    refetchTimer: null,
    busy: false, // an action (take, reply, …) is in flight
    confirmingClose: false,
    intents: null, // Promise of the intents an agent may choose (GET intents), once per sign-in
  };
}

const STATUS_LABELS = {
  waiting: "Waiting for an agent",
  taken: "Taken",
  handed_back: "Handed back to the bot",
  closed: "Closed",
  timed_out: "Timed out: no agent took it in time",
};

export function statusLabel(status) {
  return STATUS_LABELS[status] || String(status || "");
}

/** The conversation id of a `#c=…` location hash, or null. */
export function idFromHash() {
  const m = /^#c=(.+)$/.exec(location.hash || "");
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return null;
  }
}

export function showPlaceholder(title, text) {
  $("conv").hidden = true;
  $("conv-placeholder").hidden = false;
  $("placeholder-title").textContent = title;
  $("placeholder-text").textContent = text;
}

/** Forget the open conversation (signed out). */
export function closeConversation(c) {
  const conv = c.conv;
  conv.openId = null;
  conv.openPreview = null;
  conv.current = null;
  conv.seen = null;
  conv.lastSeq = -1;
  conv.request += 1;
  conv.busy = false;
  conv.confirmingClose = false;
  conv.intents = null;
  showPlaceholder("No conversation open", "Choose a conversation in the queue to read it and take it over.");
  $("reply-input").value = "";
  $("note-input").value = "";
}

function markOpenInQueue(c) {
  const buttons = $("queue").querySelectorAll(".queue-entry");
  for (let i = 0; i < buttons.length; i += 1) {
    if (buttons[i].dataset.conversationId === c.conv.openId) buttons[i].setAttribute("aria-current", "true");
    else buttons[i].removeAttribute("aria-current");
  }
}

export function openConversation(c, id, byUser) {
  const conv = c.conv;
  clearError(c);
  if (conv.openId !== id || !conv.current) {
    // Never show one conversation's content while the buttons act on another.
    conv.current = null;
    conv.seen = null;
    conv.openPreview = null;
    conv.confirmingClose = false;
    $("reply-input").value = "";
    $("note-input").value = "";
    showPlaceholder("Opening conversation…", id);
  }
  conv.openId = id;
  markOpenInQueue(c);
  history.replaceState(null, "", "#c=" + encodeURIComponent(id));
  const request = ++conv.request;
  return c
    .api("GET", convPath(id))
    .then(function (data) {
      if (request !== conv.request || conv.openId !== id) return;
      renderConversation(c, data, true);
      if (byUser) {
        $("conv-title").focus();
        announce("Opened conversation " + id);
      }
    })
    .catch(function (err) {
      if (request !== conv.request) return;
      if (!conv.current && c.session.agent) showPlaceholder("Could not open the conversation", id);
      handleError(c, err);
    });
}

export function scheduleRefetch(c) {
  const conv = c.conv;
  if (conv.refetchTimer) return;
  conv.refetchTimer = setTimeout(function () {
    conv.refetchTimer = null;
    refetchConversation(c);
  }, 150);
}

export function refetchConversation(c) {
  const conv = c.conv;
  const id = conv.openId;
  if (!id) return Promise.resolve();
  const request = ++conv.request;
  return c
    .api("GET", convPath(id))
    .then(function (data) {
      if (request !== conv.request || conv.openId !== id) return;
      renderConversation(c, data, !conv.current);
    })
    .catch(function (err) {
      if (request !== conv.request) return;
      if (err.status === 401) return handleError(c, err);
      if (err.status !== 0) handleError(c, err);
    });
}

function renderConversation(c, data, fresh) {
  const state = c.conv;
  const previous = state.current;
  const conv = {
    conversation_id: data.conversation_id !== undefined ? String(data.conversation_id) : state.openId,
    handoff: data.handoff || null,
    summary: data.summary || {},
    messages: Array.isArray(data.messages) ? data.messages : [],
    notes: Array.isArray(data.notes) ? data.notes : [],
    corrections: Array.isArray(data.corrections) ? data.corrections : [],
  };
  state.current = conv;
  state.fetchedAt = now();

  $("conv-placeholder").hidden = true;
  $("conv").hidden = false;
  $("conv-id").textContent = conv.conversation_id;

  if (fresh || !previous || JSON.stringify(previous.summary) !== JSON.stringify(conv.summary)) {
    renderSummary(conv.summary);
  }

  const transcript = $("transcript");
  if (fresh || !state.seen) {
    transcript.replaceChildren();
    state.seen = new Set();
    state.lastSeq = -1;
    conv.messages.forEach(function (m) {
      appendMessage(c, m, false);
    });
    if (!conv.messages.length) {
      const empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = "No messages yet.";
      transcript.appendChild(empty);
    }
    scrollTranscript(true);
  } else {
    const unseen = conv.messages.filter(function (m) {
      return m && !state.seen.has(messageKey(m));
    });
    const outOfOrder = unseen.some(function (m) {
      const seq = recordedSeq(m);
      return seq !== null && seq < state.lastSeq;
    });
    if (outOfOrder) {
      renderConversation(c, data, true);
      return;
    }
    unseen.forEach(function (m) {
      appendMessage(c, m, true);
    });
  }

  decorateTranscript(c);
  if (fresh || !previous || JSON.stringify(previous.notes) !== JSON.stringify(conv.notes)) {
    renderNotes(conv.notes);
  }
  renderControls(c);
}

/** A message the socket brought: appended when it is the next one, else read it all again. */
export function onLiveMessage(c, data) {
  const conv = c.conv;
  if (!data || !conv.openId || !conv.current || !conv.seen) return;
  if (String(data.conversation_id) !== conv.openId) return;
  const message = data.message;
  if (!message || typeof message !== "object") return;
  if (conv.seen.has(messageKey(message))) return;
  const seq = recordedSeq(message);
  if (seq !== null && conv.lastSeq >= 0 && seq !== conv.lastSeq + 1) {
    // A gap (or out of order): take the whole conversation again.
    scheduleRefetch(c);
    return;
  }
  conv.current.messages.push(message);
  appendMessage(c, message, true);
  // Live messages do not say how the bot read a shopper's message; the console's answer does.
  if (message.sender === "user" && message.intent === undefined) scheduleRefetch(c);
}

/** Whether this agent holds (has taken) the open conversation, so its messages come live. */
export function holdingOpen(c) {
  const h = c.conv.current && c.conv.current.handoff;
  return !!(h && h.status === "taken" && isMine(c.session, h));
}

export function renderConvStatus(c) {
  const node = $("conv-status");
  const conv = c.conv.current;
  if (!conv) return;
  const h = conv.handoff;
  let text;
  if (!h) {
    text = "No handoff: the bot is handling this conversation.";
  } else if (h.status === "taken") {
    text = isMine(c.session, h) ? "Taken by you" : "Taken by " + (h.agent || "another agent");
  } else {
    text = statusLabel(h.status);
  }
  if (h && h.reason) text += " · reason: " + h.reason;
  if (h && h.status === "waiting") {
    text += " · waiting " + mmss((Number(h.waiting_s) || 0) + (now() - c.conv.fetchedAt) / 1000);
  }
  if (node.textContent !== text) node.textContent = text;
  node.className = "conv-status status-" + safeClass(h ? h.status : "none");
}

export function renderControls(c) {
  const conv = c.conv.current;
  const h = conv ? conv.handoff : null;
  const status = h ? h.status : null;
  const mine = isMine(c.session, h);
  const busy = c.conv.busy;

  const admin = !!(c.session.agent && c.session.agent.role === "admin");
  const canTake = status === "waiting";
  const owner = status === "taken" && mine;
  // As the server allows: a waiting handoff by anyone, a taken one by its owner or an admin.
  const canFinish = status === "waiting" || owner || (status === "taken" && admin);

  $("take").disabled = busy || !canTake;
  $("hand-back").disabled = busy || !canFinish;
  $("close").disabled = busy || !canFinish;
  $("reply-input").disabled = !owner;
  $("reply-send").disabled = busy || !owner;
  $("note-input").disabled = !conv;
  $("note-add").disabled = busy || !conv;

  if (!canFinish) c.conv.confirmingClose = false;
  $("close-confirm").hidden = !c.conv.confirmingClose;

  let hint;
  if (!h) hint = "The shopper has not asked for a person.";
  else if (status === "waiting") hint = "Take the conversation over to reply to the shopper.";
  else if (owner) hint = "You have this conversation: the bot is paused until you hand it back or close it.";
  else if (status === "taken" && admin)
    hint = (h.agent || "Another agent") + " has this conversation; as an admin you can hand it back or close it.";
  else if (status === "taken") hint = (h.agent || "Another agent") + " has this conversation; you can still add internal notes.";
  else hint = "This handoff is over; you can still add internal notes.";
  $("action-hint").textContent = hint;
  $("reply-input").placeholder = owner ? "Write to the shopper…" : "Take the conversation over to reply.";
  renderConvStatus(c);
}
