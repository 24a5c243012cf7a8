/* The agent accounts view (admins): the accounts, adding one, disabling and enabling, and
 * one-time links to set a password (GET agents, POST agents, POST agents/{id}/disable |
 * enable | password-link; docs/agent-console.md "Agent accounts"). State: `c.agents`.
 *
 * A link is shown once, in this view only, for the admin to give the agent; it is never kept
 * in the page's address or storage and goes when the view is reset (sign-out). */

import { $, announce, el, formatWhen } from "./dom.js";
import { clearError, handleError } from "./notices.js";
import { isAdmin } from "./session.js";
import { showView } from "./view.js";

export const AGENTS_HASH = "#agents";
const PURPOSE_TEXT = { invite: "invitation", reset: "password reset" };

export function createAgentsState() {
  return {
    request: 0, // drops stale lists
  };
}

export function openAgents(c, byUser) {
  if (!isAdmin(c.session)) return;
  showView(c, "agents");
  if (location.hash !== AGENTS_HASH) history.replaceState(null, "", AGENTS_HASH);
  loadAgents(c);
  if (byUser) $("agents-title").focus();
}

export function resetAgents(c) {
  c.agents.request += 1;
  $("agents-table").tBodies[0].replaceChildren();
  hideLink();
  $("agent-add-form").reset();
}

function hideLink() {
  $("agent-link-box").hidden = true;
  $("agent-link").value = "";
  $("agent-link-text").textContent = "";
}

/** The one-time link just made, as the whole address the admin is using the console from. */
function showLink(agent, link) {
  const purpose = PURPOSE_TEXT[link.purpose] || link.purpose;
  $("agent-link-text").textContent =
    "One-time " + purpose + " link for " + agent.display_name + " (" + agent.username + "), " +
    "valid until " + formatWhen(link.expires_at) + ". Give it to them yourself; it works once.";
  $("agent-link").value = location.origin + link.path;
  $("agent-link-box").hidden = false;
  $("agent-link").focus();
  $("agent-link").select();
  announce("A one-time link for " + agent.username + " is ready to copy.");
}

export function loadAgents(c) {
  const request = ++c.agents.request;
  return c
    .api("GET", "agents")
    .then(function (data) {
      if (request !== c.agents.request) return;
      renderAgents(c, data.agents || [], data.you);
    })
    .catch((err) => handleError(c, err));
}

function statusText(agent) {
  if (!agent.active) return "disabled";
  if (agent.pending_link && agent.pending_link.purpose === "invite" && !agent.last_sign_in) return "invited";
  return "active";
}

function actionButton(label, testId, className, onClick) {
  const button = el("button", "btn btn-small" + (className ? " " + className : ""), label);
  button.type = "button";
  button.dataset.testid = testId;
  button.addEventListener("click", onClick);
  return button;
}

function renderAgents(c, agents, you) {
  const rows = agents.map(function (agent) {
    const row = el("tr");
    row.dataset.testid = "agents-row";
    row.dataset.username = agent.username;
    row.appendChild(el("th", null, agent.display_name)).scope = "row";
    row.appendChild(el("td", null, agent.username));
    row.appendChild(el("td", null, agent.role));
    row.appendChild(el("td", "agent-status", statusText(agent))).dataset.testid = "agents-status";
    row.appendChild(el("td", null, agent.last_sign_in ? formatWhen(agent.last_sign_in) : "never"));
    const cell = el("td", "agent-actions");
    cell.appendChild(actionButton("Reset password", "agents-reset", "", () => change(c, agent, "password-link")));
    if (agent.active) {
      const disable = actionButton("Disable", "agents-disable", "btn-danger", () => change(c, agent, "disable"));
      if (agent.id === you) {
        disable.disabled = true;
        disable.title = "You cannot disable your own account.";
      }
      cell.appendChild(disable);
    } else {
      cell.appendChild(actionButton("Enable", "agents-enable", "", () => change(c, agent, "enable")));
    }
    row.appendChild(cell);
    return row;
  });
  $("agents-table").tBodies[0].replaceChildren(...rows);
  $("agents-empty").hidden = agents.length > 0;
}

function change(c, agent, action) {
  clearError(c);
  if (action !== "password-link") hideLink();
  c.api("POST", "agents/" + encodeURIComponent(agent.id) + "/" + action)
    .then(function (data) {
      if (data.link) showLink(data.agent || agent, data.link);
      else announce(agent.username + (action === "disable" ? " is disabled." : " is enabled."));
      return loadAgents(c);
    })
    .catch((err) => handleError(c, err));
}

export function onAddAgent(c, event) {
  event.preventDefault();
  const body = {
    username: $("agent-add-username").value.trim(),
    display_name: $("agent-add-name").value.trim(),
    role: $("agent-add-role").value,
  };
  clearError(c);
  hideLink();
  $("agent-add").disabled = true;
  c.api("POST", "agents", body)
    .then(function (data) {
      $("agent-add-form").reset();
      showLink(data.agent, data.link);
      return loadAgents(c);
    })
    .catch((err) => handleError(c, err))
    .then(function () {
      $("agent-add").disabled = false;
    });
}

export function onCopyLink() {
  const field = $("agent-link");
  field.select();
  if (navigator.clipboard && navigator.clipboard.writeText) {
    navigator.clipboard.writeText(field.value).then(
      () => announce("Link copied."),
      () => announce("Copy the selected link with Ctrl+C.")
    );
  } else {
    announce("Copy the selected link with Ctrl+C.");
  }
}
