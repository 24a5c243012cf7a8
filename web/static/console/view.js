/* Which view the page shows: "signin", "console" (queue and conversation), "inbox" (every
 * agent: inbox.js), "analytics" or "agents" (admins only). */

import { $ } from "./dom.js";
import { isAdmin } from "./session.js";

function setCurrentTab(tab, current) {
  if (current) tab.setAttribute("aria-current", "page");
  else tab.removeAttribute("aria-current");
}

export function showView(c, name) {
  const inside = name === "console" || name === "inbox" || name === "analytics" || name === "agents";
  $("loading").hidden = true;
  $("signin-view").hidden = name !== "signin";
  $("console-view").hidden = name !== "console";
  $("analytics-view").hidden = name !== "analytics";
  $("agents-view").hidden = name !== "agents";
  $("inbox-view").hidden = name !== "inbox";
  $("whoami").hidden = !inside;
  // every agent has the inbox tab; the admins' tabs show to admins only
  $("view-tabs").hidden = !inside;
  $("tab-analytics").hidden = !isAdmin(c.session);
  $("tab-agents").hidden = !isAdmin(c.session);
  setCurrentTab($("tab-console"), name === "console");
  setCurrentTab($("tab-analytics"), name === "analytics");
  setCurrentTab($("tab-agents"), name === "agents");
  setCurrentTab($("tab-inbox"), name === "inbox");
}
