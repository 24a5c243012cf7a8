/* The back office (docs/agent-console.md "Inbox and reviews"): messages left for the team,
 * complaints and return requests with their status (GET inbox, POST inbox/{kind}/{id}/status),
 * reviews waiting for moderation (GET reviews/pending, POST reviews/{id}/moderate), and the
 * notices of what arrived: the socket's `inbox` event (live.js), or, without the socket, a rise
 * in the counts the poll reads. A notice shows in the page, as a browser notification when the
 * agent allowed them, and plays a short tone. State: `c.inbox`.
 *
 * Every value from the server reaches the DOM through textContent (dom.js `el`). */

import { openConversation } from "./conversation.js";
import { $, announce, el, formatWhen } from "./dom.js";
import { clearError, handleError } from "./notices.js";
import { showView } from "./view.js";

export const INBOX_HASH = "#inbox";
const KIND_TEXT = { message: "Message left", complaint: "Complaint", return: "Return request" };
const STATUS_TEXT = { new: "New", in_progress: "In progress", done: "Done" };
// The buttons an item offers, by its status: the moves an agent makes next.
const MOVES = {
  new: [["in_progress", "Start"], ["done", "Mark done"]],
  in_progress: [["done", "Mark done"], ["new", "Back to new"]],
  done: [["new", "Reopen"]],
};
const TOAST_LIMIT = 4; // the newest notices stay on screen; older ones go
const TOAST_MS = 15000;
const TONE_HZ = 880;
const TONE_S = 0.18;
const TONE_GAIN = 0.08;

export function createInboxState() {
  return {
    request: 0, // drops stale lists
    counts: null, // the last counts of new items, to notice a rise while polling
    audio: null, // one AudioContext, made on first use
  };
}

/** Wire the inbox's own controls (console.js calls this once). */
export function installInbox(c) {
  $("tab-inbox").addEventListener("click", () => openInbox(c, true));
  $("inbox-filters").addEventListener("change", () => loadInbox(c));
  $("inbox-filters").addEventListener("submit", function (event) {
    event.preventDefault();
    loadInbox(c);
  });
  $("inbox-notify").addEventListener("click", () => askPermission(c));
  $("inbox-list").addEventListener("click", (event) => onItemClick(c, event));
  $("reviews-list").addEventListener("click", (event) => onReviewClick(c, event));
  $("inbox-toasts").addEventListener("click", (event) => onToastClick(c, event));
}

export function openInbox(c, byUser) {
  if (!c.session.agent) return;
  showView(c, "inbox");
  if (location.hash !== INBOX_HASH) history.replaceState(null, "", INBOX_HASH);
  showPermission();
  loadInbox(c);
  loadReviews(c);
  if (byUser) $("inbox-title").focus();
}

export function resetInbox(c) {
  c.inbox.request += 1;
  c.inbox.counts = null;
  $("inbox-list").replaceChildren();
  $("reviews-list").replaceChildren();
  $("inbox-toasts").replaceChildren();
  $("inbox-badge").textContent = "";
}

function inboxOpen() {
  return !$("inbox-view").hidden;
}

function totalNew(counts) {
  if (!counts) return 0;
  return Object.keys(counts).reduce((sum, key) => sum + (Number(counts[key]) || 0), 0);
}

function applyCounts(c, counts) {
  if (!counts) return;
  c.inbox.counts = counts;
  const total = totalNew(counts);
  $("inbox-badge").textContent = total ? String(total) : "";
  $("tab-inbox").setAttribute("aria-label", "Inbox" + (total ? ", " + total + " new" : ""));
  $("inbox-counts").textContent =
    "New: " + [
      plural(counts.message, "message left", "messages left"),
      plural(counts.complaint, "complaint", "complaints"),
      plural(counts.return, "return request", "return requests"),
      plural(counts.review, "review to moderate", "reviews to moderate"),
    ].join(", ");
}

function plural(count, one, many) {
  const n = Number(count) || 0;
  return n + " " + (n === 1 ? one : many);
}

/** The counts (sign-in, and the poll without the socket): a rise is a notice of its own. */
export function refreshInboxCounts(c, fromPoll) {
  return c
    .api("GET", "inbox?limit=1")
    .then(function (data) {
      const before = c.inbox.counts;
      applyCounts(c, data.counts);
      if (fromPoll && before && totalNew(data.counts) > totalNew(before)) {
        notify(c, { kind: "inbox", title: "Something new arrived in the inbox", conversation_id: null });
        if (inboxOpen()) reload(c);
      }
    })
    .catch(function (err) {
      if (err.status === 401) handleError(c, err);
    });
}

/** The socket's `inbox` event: {notices: [{kind, id, title, created_at, conversation_id}], counts}. */
export function onInboxNotice(c, data) {
  if (!c.session.agent || !data) return;
  applyCounts(c, data.counts);
  const notices = Array.isArray(data.notices) ? data.notices : [];
  notices.forEach((notice) => notify(c, notice));
  if (notices.length && inboxOpen()) reload(c);
}

function reload(c) {
  loadInbox(c);
  loadReviews(c);
}

export function loadInbox(c) {
  const request = ++c.inbox.request;
  const kind = $("inbox-kind").value;
  const status = $("inbox-status").value;
  const query = new URLSearchParams();
  if (kind) query.set("kind", kind);
  if (status) query.set("status", status);
  const path = "inbox" + (query.toString() ? "?" + query.toString() : "");
  return c
    .api("GET", path)
    .then(function (data) {
      if (request !== c.inbox.request) return;
      applyCounts(c, data.counts);
      renderItems(Array.isArray(data.items) ? data.items : []);
    })
    .catch(function (err) {
      if (request === c.inbox.request) handleError(c, err);
    });
}

function renderItems(items) {
  const list = $("inbox-list");
  list.replaceChildren(...items.map(itemNode));
  $("inbox-empty").hidden = items.length > 0;
}

function itemNode(item) {
  const node = el("li", "inbox-item status-" + (STATUS_TEXT[item.status] ? item.status : "new"));
  node.setAttribute("data-testid", "inbox-item");
  node.dataset.kind = item.kind;
  node.dataset.id = String(item.id);
  node.dataset.status = item.status;
  const top = el("div", "inbox-top");
  top.append(
    el("strong", "inbox-kind", KIND_TEXT[item.kind] || item.kind),
    el("span", "badge inbox-status", STATUS_TEXT[item.status] || item.status),
    el("span", "inbox-when", formatWhen(item.created_at))
  );
  node.append(top, el("p", "inbox-text", item.text));
  const facts = [];
  if (item.email) facts.push("E-mail: " + item.email);
  if (item.reference) facts.push("Return " + item.reference);
  if (item.order_number) facts.push("Order " + item.order_number);
  if (facts.length) node.append(el("p", "inbox-facts", facts.join(" · ")));
  const actions = el("div", "inbox-actions");
  if (item.conversation_id) {
    const open = el("button", "btn btn-small btn-quiet", "Open conversation");
    open.type = "button";
    open.dataset.conversation = item.conversation_id;
    open.setAttribute("data-testid", "inbox-open-conversation");
    actions.append(open);
  }
  (MOVES[item.status] || []).forEach(function ([status, label]) {
    const move = el("button", "btn btn-small", label);
    move.type = "button";
    move.dataset.move = status;
    move.setAttribute("data-testid", "inbox-set-" + status);
    actions.append(move);
  });
  node.append(actions);
  return node;
}

function openFromInbox(c, conversationId) {
  showView(c, "console");
  openConversation(c, conversationId, true);
}

function onItemClick(c, event) {
  const button = event.target.closest("button");
  const node = button && button.closest("[data-testid='inbox-item']");
  if (!node) return;
  if (button.dataset.conversation) {
    openFromInbox(c, button.dataset.conversation);
    return;
  }
  if (!button.dataset.move) return;
  clearError(c);
  button.disabled = true;
  const path = "inbox/" + encodeURIComponent(node.dataset.kind) + "/" + node.dataset.id + "/status";
  c.api("POST", path, { status: button.dataset.move })
    .then(function (data) {
      applyCounts(c, data.counts);
      node.replaceWith(itemNode(data.item));
      announce((KIND_TEXT[data.item.kind] || "Item") + " marked " + (STATUS_TEXT[data.item.status] || ""));
    })
    .catch(function (err) {
      button.disabled = false;
      handleError(c, err);
    });
}

// ---------------------------------------------------------------- reviews

export function loadReviews(c) {
  return c
    .api("GET", "reviews/pending")
    .then(function (data) {
      const reviews = Array.isArray(data.reviews) ? data.reviews : [];
      $("reviews-list").replaceChildren(...reviews.map(reviewNode));
      $("reviews-empty").hidden = reviews.length > 0;
    })
    .catch((err) => handleError(c, err));
}

function stars(rating) {
  const n = Math.max(0, Math.min(5, Number(rating) || 0));
  return "★".repeat(n) + "☆".repeat(5 - n);
}

function reviewNode(review) {
  const node = el("li", "inbox-item review-item");
  node.setAttribute("data-testid", "review-item");
  node.dataset.id = String(review.id);
  const top = el("div", "inbox-top");
  const rating = el("span", "review-stars", stars(review.rating));
  rating.setAttribute("aria-label", review.rating + " of 5 stars");
  top.append(el("strong", "inbox-kind", review.product_name), rating, el("span", "inbox-when", formatWhen(review.created_at)));
  node.append(top);
  if (review.title) node.append(el("p", "review-title", review.title));
  node.append(el("p", "inbox-text", review.text));
  node.append(el("p", "inbox-facts", "By " + (review.reviewer || "a shopper") + " · SKU " + review.sku));
  const actions = el("div", "inbox-actions");
  [["approve", "Approve", "btn-primary"], ["reject", "Reject", "btn-danger"]].forEach(function ([decision, label, style]) {
    const button = el("button", "btn btn-small " + style, label);
    button.type = "button";
    button.dataset.decision = decision;
    button.setAttribute("data-testid", "review-" + decision);
    actions.append(button);
  });
  node.append(actions);
  return node;
}

function onReviewClick(c, event) {
  const button = event.target.closest("button[data-decision]");
  const node = button && button.closest("[data-testid='review-item']");
  if (!node) return;
  clearError(c);
  node.querySelectorAll("button").forEach((b) => (b.disabled = true));
  c.api("POST", "reviews/" + node.dataset.id + "/moderate", { decision: button.dataset.decision })
    .then(function (data) {
      node.remove();
      $("reviews-empty").hidden = $("reviews-list").children.length > 0;
      announce("Review " + (data.review && data.review.status === "approved" ? "approved" : "rejected"));
      refreshInboxCounts(c, false);
    })
    .catch(function (err) {
      node.querySelectorAll("button").forEach((b) => (b.disabled = false));
      handleError(c, err);
    });
}

// ---------------------------------------------------------------- notices

function notificationsAvailable() {
  return typeof window.Notification === "function";
}

function showPermission() {
  const button = $("inbox-notify");
  button.hidden = !notificationsAvailable() || window.Notification.permission !== "default";
}

function askPermission(c) {
  if (!notificationsAvailable()) return;
  unlockSound(c);
  Promise.resolve(window.Notification.requestPermission()).then(showPermission, showPermission);
}

function unlockSound(c) {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return null;
  if (!c.inbox.audio) {
    try {
      c.inbox.audio = new Context();
    } catch {
      return null;
    }
  }
  if (c.inbox.audio.state === "suspended") c.inbox.audio.resume().catch(() => {});
  return c.inbox.audio;
}

/** A short tone: no sound file to fetch, and quiet enough for an office. */
function playTone(c) {
  const audio = unlockSound(c);
  if (!audio) return;
  try {
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.frequency.value = TONE_HZ;
    gain.gain.value = TONE_GAIN;
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start();
    oscillator.stop(audio.currentTime + TONE_S);
  } catch {
    // no sound: the notice still shows
  }
}

function notify(c, notice) {
  const toasts = $("inbox-toasts");
  const toast = el("div", "inbox-toast");
  toast.setAttribute("data-testid", "inbox-toast");
  toast.setAttribute("role", "status");
  toast.dataset.kind = notice.kind || "";
  toast.append(el("strong", null, notice.title || "Something new arrived"));
  const open = el("button", "btn btn-small", notice.kind === "handoff" ? "Open conversation" : "Open inbox");
  open.type = "button";
  if (notice.kind === "handoff" && notice.conversation_id) open.dataset.conversation = notice.conversation_id;
  else open.dataset.inbox = "1";
  const dismiss = el("button", "btn btn-small btn-quiet", "Dismiss");
  dismiss.type = "button";
  dismiss.dataset.dismiss = "1";
  toast.append(open, dismiss);
  toasts.prepend(toast);
  while (toasts.children.length > TOAST_LIMIT) toasts.lastChild.remove();
  setTimeout(() => toast.remove(), TOAST_MS);
  announce(notice.title || "Something new arrived");
  playTone(c);
  if (notificationsAvailable() && window.Notification.permission === "granted") {
    try {
      const shown = new window.Notification(notice.title || "ShopDesk", {
        body: notice.conversation_id ? "Conversation " + notice.conversation_id : "See the console's inbox",
        tag: "shopdesk-" + (notice.kind || "inbox") + "-" + (notice.id || ""),
      });
      shown.onclick = function () {
        window.focus();
        if (open.dataset.conversation) openFromInbox(c, open.dataset.conversation);
        else openInbox(c, true);
      };
    } catch {
      // some browsers allow notifications only from a service worker: the toast stays
    }
  }
}

function onToastClick(c, event) {
  const button = event.target.closest("button");
  const toast = button && button.closest(".inbox-toast");
  if (!toast) return;
  toast.remove();
  if (button.dataset.conversation) openFromInbox(c, button.dataset.conversation);
  else if (button.dataset.inbox) openInbox(c, true);
}
