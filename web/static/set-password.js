/* The one-time link's page (/agent/set-password#TOKEN, docs/agent-console.md "Agent accounts").
 *
 * The token is in the fragment, which the browser sends to no server; this script posts it in
 * a JSON body: first to say whose account the link is for (or why it cannot be used), then
 * with the new password. The fragment is dropped from the address bar at once, so it is not
 * left in the history for the next person at this computer. Then the agent signs in. */

import { createApi } from "./console/api.js";
import { $ } from "./console/dom.js";

const MIN_PASSWORD_CHARS = 12; // web/auth.py MIN_PASSWORD_CHARS; the server checks it again
const PURPOSE_TEXT = {
  invite: "Welcome! Choose the password for your new account",
  reset: "An admin reset the password of your account",
};

const api = createApi({ csrf: null });

function showError(message) {
  $("error").textContent = message || "";
}

function show(name) {
  $("loading").hidden = true;
  $("link-view").hidden = name !== "form";
  $("done-view").hidden = name !== "done";
}

function onSubmit(token, event) {
  event.preventDefault();
  const password = $("new-password").value;
  if (password.length < MIN_PASSWORD_CHARS) {
    showError("Please choose a longer password: it needs at least " + MIN_PASSWORD_CHARS + " characters.");
    $("new-password").focus();
    return;
  }
  if (password !== $("new-password-again").value) {
    showError("The two passwords are not the same; please type them again.");
    $("new-password-again").focus();
    return;
  }
  showError("");
  $("link-submit").disabled = true;
  api("POST", "password-link", { token: token, password: password })
    .then(function (data) {
      $("new-password").value = "";
      $("new-password-again").value = "";
      $("done-username").textContent = data.username || "";
      show("done");
      $("done-title").focus();
    })
    .catch(function (err) {
      showError(err.message);
      if (err.status === 410) show("none");
    })
    .then(function () {
      $("link-submit").disabled = false;
    });
}

function init() {
  const token = decodeURIComponent(location.hash.replace(/^#/, ""));
  if (location.hash) history.replaceState(null, "", location.pathname);
  if (!token) {
    show("none");
    showError("This page needs the whole link an admin gave you, including the part after #.");
    return;
  }
  api("POST", "password-link/check", { token: token })
    .then(function (data) {
      const purpose = PURPOSE_TEXT[data.purpose] || PURPOSE_TEXT.reset;
      $("link-who").textContent = purpose + ": " + (data.display_name || "") + " (" + (data.username || "") + ").";
      $("link-username").value = data.username || "";
      $("link-form").addEventListener("submit", (event) => onSubmit(token, event));
      show("form");
      $("new-password").focus();
    })
    .catch(function (err) {
      show("none");
      showError(err.message);
    });
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
