/* Which view the page shows: "signin", "console" (queue and conversation) or "analytics"
 * (admins only). */

import { $ } from "./dom.js";
import { isAdmin } from "./session.js";

function setCurrentTab(tab, current) {
  if (current) tab.setAttribute("aria-current", "page");
  else tab.removeAttribute("aria-current");
}

export function showView(c, name) {
  const inside = name === "console" || name === "analytics";
  $("loading").hidden = true;
  $("signin-view").hidden = name !== "signin";
  $("console-view").hidden = name !== "console";
  $("analytics-view").hidden = name !== "analytics";
  $("whoami").hidden = !inside;
  $("view-tabs").hidden = !inside || !isAdmin(c.session);
  setCurrentTab($("tab-console"), name === "console");
  setCurrentTab($("tab-analytics"), name === "analytics");
}
