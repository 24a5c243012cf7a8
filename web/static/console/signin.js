/* Signing in and out: the sign-in form, who is signed in, and what happens when the session
 * ends (any 401 comes here through the context's `expired` hook). */

import { AGENTS_HASH, openAgents, resetAgents } from "./agents.js";
import { resetAnalytics, openAnalytics } from "./analytics.js";
import { closeConversation, idFromHash, openConversation } from "./conversation.js";
import { INBOX_HASH, openInbox, resetInbox } from "./inbox.js";
import { $ } from "./dom.js";
import { startLive, stopLive } from "./live.js";
import { EXPIRED_TEXT, clearError, showError } from "./notices.js";
import { resetQueue } from "./queue.js";
import { isAdmin } from "./session.js";
import { showView } from "./view.js";

function resetConsole(c) {
  resetQueue(c);
  closeConversation(c);
  resetAnalytics(c);
  resetAgents(c);
  resetInbox(c);
}

export function showSignin(c, message) {
  stopLive(c);
  resetConsole(c);
  c.session.agent = null;
  c.session.csrf = null;
  showView(c, "signin");
  $("error").textContent = message || "";
  $("password").value = "";
  $("signin").disabled = false;
  $("username").focus();
}

export function sessionExpired(c) {
  if (!c.session.agent && !$("signin-view").hidden) {
    showError(EXPIRED_TEXT);
    return;
  }
  showSignin(c, EXPIRED_TEXT);
}

/** GET me's or POST login's answer: {agent, csrf_token}. */
export function signedIn(c, data) {
  const session = c.session;
  session.agent = data.agent || null;
  session.csrf = data.csrf_token || null;
  if (!session.agent) {
    showSignin(c, "The server did not say who you are. Please sign in again.");
    return;
  }
  $("agent-name").textContent = session.agent.display_name || session.agent.username || "";
  const role = $("agent-role");
  role.textContent = session.agent.role === "admin" ? "admin" : "";
  role.hidden = session.agent.role !== "admin";
  showView(c, "console");
  startLive(c);
  if (location.hash === "#analytics" && isAdmin(session)) {
    openAnalytics(c, false);
    return;
  }
  if (location.hash === INBOX_HASH) {
    openInbox(c, false);
    return;
  }
  if (location.hash === AGENTS_HASH && isAdmin(session)) {
    openAgents(c, false);
    return;
  }
  const wanted = idFromHash();
  if (wanted) openConversation(c, wanted, false);
}

export function onLogin(c, event) {
  event.preventDefault();
  const username = $("username").value.trim();
  const password = $("password").value;
  if (!username || !password) {
    showError("Enter your username and password.");
    (username ? $("password") : $("username")).focus();
    return;
  }
  clearError(c);
  $("signin").disabled = true;
  c.api("POST", "login", { username: username, password: password })
    .then(function (data) {
      $("password").value = "";
      signedIn(c, data);
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

export function onSignout(c) {
  clearError(c);
  const done = function () {
    showSignin(c, "");
    if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  };
  c.api("POST", "logout").then(done, done);
}
