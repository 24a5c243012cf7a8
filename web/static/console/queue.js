/* The queue on the left: the open handoffs (GET queue, or pushed by the socket), their
 * waiting clocks, and noticing when the open conversation changed hands. State: `c.queue`. */

import { NETWORK_TEXT } from "./api.js";
import { $, el, mmss, now, safeClass } from "./dom.js";
import {
  holdingOpen,
  openConversation,
  renderConvStatus,
  scheduleRefetch,
  statusLabel,
} from "./conversation.js";
import { handleError, showError } from "./notices.js";
import { isMine } from "./session.js";

const TITLE = "ShopDesk agent console";

export function createQueueState() {
  return {
    entries: [], // [QueueEntry]
    fetchedAt: 0, // now() when the entries' waiting_s were current
    signature: "",
    pollError: false, // the last poll could not reach the server
  };
}

export function resetQueue(c) {
  c.queue.entries = [];
  c.queue.signature = "";
  $("queue").replaceChildren();
  $("queue-count").textContent = "";
  $("queue-empty").hidden = true;
  document.title = TITLE;
}

export function refreshQueue(c, fromPoll) {
  return c
    .api("GET", "queue")
    .then(function (data) {
      if (c.queue.pollError) {
        c.queue.pollError = false;
        if ($("error").textContent === NETWORK_TEXT) $("error").textContent = "";
      }
      applyQueue(c, data);
    })
    .catch(function (err) {
      if (err.status === 401) return handleError(c, err);
      if (fromPoll && err.status === 0) {
        c.queue.pollError = true;
        showError(NETWORK_TEXT);
        return;
      }
      if (!fromPoll) handleError(c, err);
    });
}

export function applyQueue(c, data) {
  if (!c.session.agent) return;
  const list = data && Array.isArray(data.conversations) ? data.conversations : [];
  c.queue.entries = list;
  c.queue.fetchedAt = now();
  const signature = JSON.stringify(
    list.map(function (e) {
      return [e.conversation_id, e.status, e.agent, e.reason, e.preview];
    })
  );
  if (signature !== c.queue.signature) {
    c.queue.signature = signature;
    renderQueue(c);
  }
  tick(c);
  checkOpenAgainstQueue(c);
}

function queueStatusText(c, entry) {
  if (entry.status === "waiting") return "Waiting";
  if (entry.status === "taken") {
    return isMine(c.session, entry) ? "Taken by you" : "Taken by " + (entry.agent || "another agent");
  }
  return statusLabel(entry.status);
}

function renderQueue(c) {
  const ul = $("queue");
  const active = document.activeElement;
  const focusedId =
    active && active.classList && active.classList.contains("queue-entry") ? active.dataset.conversationId : null;
  ul.replaceChildren();
  let waiting = 0;
  const entries = c.queue.entries;
  entries.forEach(function (entry) {
    const id = String(entry.conversation_id);
    if (entry.status === "waiting") waiting += 1;
    const li = el("li");
    const button = el("button", "queue-entry status-" + safeClass(entry.status));
    button.type = "button";
    button.setAttribute("data-testid", "console-queue-entry");
    button.dataset.conversationId = id;
    if (id === c.conv.openId) button.setAttribute("aria-current", "true");

    const top = el("span", "q-top");
    const mine = isMine(c.session, entry) ? " badge-mine" : "";
    const badge = el("span", "badge badge-" + safeClass(entry.status) + mine, queueStatusText(c, entry));
    const clock = el("span", "q-clock");
    const time = el("span", "q-time");
    time.dataset.conversationId = id;
    clock.append(el("span", "sr-only", ", asked "), time, el("span", "sr-only", " ago, "));
    top.append(badge, clock);

    const reason = el("span", "q-reason", entry.reason ? entry.reason : "no reason given");
    const preview = el("span", "q-preview", entry.preview ? "“" + entry.preview + "”" : "(no message yet)");
    const convId = el("span", "q-id", id);
    button.append(top, reason, preview, convId);
    button.addEventListener("click", function () {
      openConversation(c, id, true);
    });
    li.appendChild(button);
    ul.appendChild(li);
  });
  $("queue-count").textContent = entries.length ? "(" + entries.length + ")" : "";
  $("queue-empty").hidden = entries.length > 0;
  document.title = (waiting ? "(" + waiting + ") " : "") + TITLE;
  if (focusedId) {
    const again = findQueueButton(focusedId);
    if (again) again.focus();
  }
}

function findQueueButton(id) {
  const buttons = $("queue").querySelectorAll(".queue-entry");
  for (let i = 0; i < buttons.length; i += 1) {
    if (buttons[i].dataset.conversationId === id) return buttons[i];
  }
  return null;
}

/** When the queue says the open conversation changed hands or left, fetch it again. */
function checkOpenAgainstQueue(c) {
  const conv = c.conv;
  if (!conv.openId || !conv.current || conv.busy) return;
  let entry = null;
  c.queue.entries.forEach(function (e) {
    if (String(e.conversation_id) === conv.openId) entry = e;
  });
  const h = conv.current.handoff;
  const shown = h ? h.status + "|" + (h.agent || "") : "none";
  if (entry) {
    // Not held here, the open conversation's new messages do not come live: a new preview
    // in the queue says the shopper wrote, so read it again now rather than at the next poll.
    const preview = String(entry.preview || "");
    const wrote = !holdingOpen(c) && conv.openPreview !== null && preview !== conv.openPreview;
    conv.openPreview = preview;
    if (wrote || entry.status + "|" + (entry.agent || "") !== shown) scheduleRefetch(c);
  } else if (h && (h.status === "waiting" || h.status === "taken")) {
    scheduleRefetch(c);
  }
}

/** The waiting clocks, from the queue's waiting_s and the time since it came. */
export function tick(c) {
  const elapsed = (now() - c.queue.fetchedAt) / 1000;
  const byId = {};
  c.queue.entries.forEach(function (e) {
    byId[String(e.conversation_id)] = e;
  });
  const spans = $("queue").querySelectorAll(".q-time");
  for (let i = 0; i < spans.length; i += 1) {
    const entry = byId[spans[i].dataset.conversationId];
    if (!entry) continue;
    const text = mmss((Number(entry.waiting_s) || 0) + elapsed);
    if (spans[i].textContent !== text) spans[i].textContent = text;
  }
  renderConvStatus(c);
}
