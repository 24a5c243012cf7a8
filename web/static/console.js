/* ShopDesk agent console (docs/web.md "Agent console HTTP API", docs/agent-console.md).
 *
 * Native ES modules, no build step: this entry makes the console context `c` and wires the
 * page's controls; every module gets `c` explicitly and keeps its own part of it:
 *
 *   c.session    session.js       who is signed in, the CSRF token
 *   c.api        api.js           the HTTP API (createApi)
 *   c.queue      queue.js         the queue and its clocks
 *   c.conv       conversation.js  the open conversation (transcript.js, misread.js, actions.js)
 *   c.live       live.js          the socket, the poll and the tick
 *   c.analytics  analytics.js     the admins' analytics view (charts.js, numbers.js)
 *   c.agents     agents.js        the admins' agent accounts view
 *   c.inbox      inbox.js         the back office: inbox, reviews, notices (every agent)
 *
 * Two hooks let lower modules reach higher ones without importing them: c.expired() (a 401:
 * back to the sign-in form, signin.js) and c.refreshQueue() (after an action).
 */

import { AGENTS_HASH, createAgentsState, onAddAgent, onCopyLink, openAgents } from "./console/agents.js";
import { onClose, onCloseCancel, onCloseConfirm, onHandBack, onNote, onReply, onTake, submitOnEnter } from "./console/actions.js";
import { createAnalyticsState, loadAnalytics, openAnalytics, quickRange, showConsole } from "./console/analytics.js";
import { createApi } from "./console/api.js";
import { createConversationState, idFromHash, openConversation, refetchConversation } from "./console/conversation.js";
import { INBOX_HASH, createInboxState, installInbox, openInbox } from "./console/inbox.js";
import { $ } from "./console/dom.js";
import { createLiveState } from "./console/live.js";
import { clearError } from "./console/notices.js";
import { createQueueState, refreshQueue } from "./console/queue.js";
import { createSession, isAdmin } from "./console/session.js";
import { onLogin, onSignout, sessionExpired, showSignin, signedIn } from "./console/signin.js";
import { showView } from "./console/view.js";

function createConsole() {
  const session = createSession();
  const c = {
    session: session,
    api: createApi(session),
    queue: createQueueState(),
    conv: createConversationState(),
    live: createLiveState(),
    analytics: createAnalyticsState(),
    agents: createAgentsState(),
    inbox: createInboxState(),
    expired: null,
    refreshQueue: null,
  };
  c.expired = () => sessionExpired(c);
  c.refreshQueue = () => refreshQueue(c);
  return c;
}

function init() {
  const c = createConsole();
  const on = (id, type, handler) => $(id).addEventListener(type, handler);
  on("login-form", "submit", (event) => onLogin(c, event));
  on("signout", "click", () => onSignout(c));
  on("queue-refresh", "click", function () {
    clearError(c);
    refreshQueue(c);
    if (c.conv.openId) refetchConversation(c);
  });
  on("take", "click", () => onTake(c));
  on("hand-back", "click", () => onHandBack(c));
  on("close", "click", () => onClose(c));
  on("close-yes", "click", () => onCloseConfirm(c));
  on("close-no", "click", () => onCloseCancel(c));
  on("close-confirm", "keydown", function (event) {
    if (event.key === "Escape") onCloseCancel(c);
  });
  on("reply-form", "submit", (event) => onReply(c, event));
  on("note-form", "submit", (event) => onNote(c, event));
  on("reply-input", "keydown", submitOnEnter($("reply-form")));
  on("note-input", "keydown", submitOnEnter($("note-form")));
  on("tab-console", "click", () => showConsole(c, true));
  on("tab-analytics", "click", () => openAnalytics(c, true));
  on("tab-agents", "click", () => openAgents(c, true));
  installInbox(c); // the inbox view's own controls
  on("agent-add-form", "submit", (event) => onAddAgent(c, event));
  on("agent-link-copy", "click", onCopyLink);
  on("range-form", "submit", function (event) {
    event.preventDefault();
    loadAnalytics(c);
  });
  $("range-form")
    .querySelectorAll("[data-days]")
    .forEach(function (button) {
      button.addEventListener("click", (event) => quickRange(c, Number(event.currentTarget.dataset.days)));
    });
  window.addEventListener("hashchange", function () {
    if (!c.session.agent) return;
    if (location.hash === "#analytics") {
      if (isAdmin(c.session) && $("analytics-view").hidden) openAnalytics(c, false);
      return;
    }
    if (location.hash === INBOX_HASH) {
      if ($("inbox-view").hidden) openInbox(c, false);
      return;
    }
    if (location.hash === AGENTS_HASH) {
      if (isAdmin(c.session) && $("agents-view").hidden) openAgents(c, false);
      return;
    }
    const id = idFromHash();
    if (id && $("console-view").hidden) showView(c, "console");
    if (id && id !== c.conv.openId) openConversation(c, id, false);
  });

  c.api("GET", "me")
    .then((data) => signedIn(c, data))
    .catch(function (err) {
      if (err.status === 401) showSignin(c, "");
      else showSignin(c, err.message);
    });
}

// a module runs after the document is parsed; the check keeps it right if it ever is not
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
