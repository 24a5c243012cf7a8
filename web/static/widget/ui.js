/* The widget's frame: the launcher button, the panel with its header, status line, "clear
 * this chat?" question, conversation log, typing indicator and composer; opening and closing
 * it, and the status line. `buildUi` returns the nodes the other modules use (w.ui). */

import { chatIcon, el, srOnly } from "./dom.js";

/** widget.css from the widget's origin; the widget stays hidden until it is there. */
export function loadStylesheet(w) {
  const href = w.origin + "/static/widget.css";
  let shown = false;
  function show() {
    if (shown) return;
    shown = true;
    if (w.ui.root) w.ui.root.style.visibility = "";
  }
  const links = document.querySelectorAll('link[rel="stylesheet"]');
  for (let i = 0; i < links.length; i++) {
    if (links[i].href === href) {
      setTimeout(show, 0);
      return;
    }
  }
  const link = el("link", { rel: "stylesheet", href: href });
  link.addEventListener("load", show);
  link.addEventListener("error", show);
  setTimeout(show, 3000);
  document.head.appendChild(link);
}

function button(attributes, label) {
  return el("button", Object.assign({ type: "button" }, attributes), label);
}

/** The widget's nodes, appended to the page; `on` has the handlers (main.js wires them). */
export function buildUi(title, on) {
  const root = el("div", { className: "shopdesk-root", id: "shopdesk-root" });
  root.style.visibility = "hidden"; // until widget.css is there: no unstyled flash

  const launcher = button({
    className: "shopdesk-launcher",
    "data-testid": "shopdesk-launcher",
    "aria-expanded": "false",
    "aria-controls": "shopdesk-panel",
  });
  launcher.appendChild(chatIcon());
  launcher.appendChild(srOnly(title));

  const panel = el("div", {
    id: "shopdesk-panel",
    className: "shopdesk-panel",
    role: "dialog",
    "aria-label": title,
    "data-testid": "shopdesk-panel",
    hidden: true,
  });

  const header = el("div", { className: "shopdesk-header" });
  header.appendChild(el("span", { className: "shopdesk-title", "aria-hidden": "true" }, title));
  const clearButton = button({ className: "shopdesk-clear", "data-testid": "shopdesk-clear" }, "Clear chat");
  header.appendChild(clearButton);
  const closeButton = button(
    { className: "shopdesk-close", "aria-label": "Close chat", "data-testid": "shopdesk-close" },
    "\u00d7"
  );
  header.appendChild(closeButton);

  const status = el("div", {
    className: "shopdesk-status",
    role: "status",
    "data-testid": "shopdesk-status",
    hidden: true,
  });

  // "Clear this chat?": asked in the panel, so it works with the keyboard and a screen reader
  const confirmBar = el("div", {
    className: "shopdesk-confirm",
    role: "group",
    "aria-labelledby": "shopdesk-confirm-text",
    "data-testid": "shopdesk-clear-dialog",
    hidden: true,
  });
  confirmBar.appendChild(
    el(
      "p",
      { id: "shopdesk-confirm-text", className: "shopdesk-confirm-text" },
      "Delete this conversation? It cannot be brought back."
    )
  );
  const confirmYes = button(
    { className: "shopdesk-confirm-yes", "data-testid": "shopdesk-clear-confirm" },
    "Delete chat"
  );
  const confirmNo = button({ className: "shopdesk-confirm-no", "data-testid": "shopdesk-clear-cancel" }, "Keep it");
  confirmBar.appendChild(confirmYes);
  confirmBar.appendChild(confirmNo);

  const log = el("div", {
    className: "shopdesk-log",
    role: "log",
    "aria-live": "polite",
    "aria-label": "Conversation",
    "data-testid": "shopdesk-log",
    tabindex: "0",
  });

  const typing = el("div", { className: "shopdesk-typing", "data-testid": "shopdesk-typing", hidden: true });
  const dots = el("span", { className: "shopdesk-typing-dots", "aria-hidden": "true" });
  dots.appendChild(el("span"));
  dots.appendChild(el("span"));
  dots.appendChild(el("span"));
  typing.appendChild(dots);
  typing.appendChild(srOnly("The assistant is typing"));

  const form = el("form", { className: "shopdesk-form", novalidate: true });
  form.appendChild(el("label", { for: "shopdesk-input", className: "shopdesk-sr-only" }, "Your message"));
  const input = el("textarea", {
    id: "shopdesk-input",
    className: "shopdesk-input",
    "data-testid": "shopdesk-input",
    rows: "1",
    placeholder: "Type a message\u2026",
    autocomplete: "off",
    enterkeyhint: "send",
  });
  const send = el("button", { type: "submit", className: "shopdesk-send", "data-testid": "shopdesk-send" }, "Send");
  form.appendChild(input);
  form.appendChild(send);

  panel.appendChild(header);
  panel.appendChild(status);
  panel.appendChild(confirmBar);
  panel.appendChild(log);
  panel.appendChild(typing);
  panel.appendChild(form);
  root.appendChild(panel);
  root.appendChild(launcher);
  document.body.appendChild(root);

  const isEscape = (event) => event.key === "Escape" || event.key === "Esc";
  launcher.addEventListener("click", on.toggle);
  closeButton.addEventListener("click", on.close);
  clearButton.addEventListener("click", on.askToClear);
  confirmYes.addEventListener("click", on.clear);
  confirmNo.addEventListener("click", on.keep);
  confirmBar.addEventListener("keydown", function (event) {
    if (isEscape(event)) {
      event.preventDefault();
      event.stopPropagation(); // the question goes away, the panel stays
      on.keep();
    }
  });
  panel.addEventListener("keydown", function (event) {
    if (isEscape(event)) {
      event.preventDefault();
      event.stopPropagation();
      on.close();
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    on.send();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      on.send();
    }
  });
  input.addEventListener("input", on.resize);

  return { root, launcher, panel, status, log, typing, input, clearButton, confirmBar, confirmNo };
}

export function fitInput(ui) {
  ui.input.style.height = "auto";
  ui.input.style.height = Math.min(ui.input.scrollHeight + 2, 120) + "px";
}

export function scrollToEnd(ui) {
  ui.log.scrollTop = ui.log.scrollHeight;
}

/** Opens the panel (and the connection, through `connect`); `focus`: the input gets it. */
export function openPanel(w, focus, connect) {
  const ui = w.ui;
  if (!ui.panel.hidden) {
    if (focus) ui.input.focus();
    return;
  }
  ui.panel.hidden = false;
  ui.root.classList.add("shopdesk-open");
  ui.launcher.setAttribute("aria-expanded", "true");
  ui.launcher.classList.remove("shopdesk-unread");
  w.store.save("session", "open", true);
  connect();
  scrollToEnd(ui);
  if (focus) ui.input.focus();
}

export function closePanel(w, returnFocus) {
  const ui = w.ui;
  if (ui.panel.hidden) return;
  const hadFocus = ui.panel.contains(document.activeElement);
  ui.panel.hidden = true;
  ui.root.classList.remove("shopdesk-open");
  ui.launcher.setAttribute("aria-expanded", "false");
  w.store.save("session", "open", false);
  if (returnFocus || hadFocus) ui.launcher.focus();
}

export function showStatus(ui, message) {
  ui.status.textContent = message;
  ui.status.hidden = !message;
}

/** The status line from the connection's state: nothing when connected. */
export function updateStatus(w) {
  const state = w.state;
  if (!state.socket && !state.loading) return;
  if (state.connected) return showStatus(w.ui, "");
  if (!state.everConnected) {
    // a quick first connect shows nothing; a slow or failing one says so
    return showStatus(
      w.ui,
      state.socket && state.socket.active === false ? "Cannot reach the chat." : "Connecting\u2026"
    );
  }
  const offline = navigator.onLine === false ? " You seem to be offline." : "";
  const queued = state.outbox.length ? " Your message will be sent when the connection is back." : "";
  showStatus(w.ui, "Reconnecting\u2026" + offline + queued);
}

/** A note from the widget itself (not part of the conversation), read out politely. */
export function showNotice(ui, message) {
  ui.log.appendChild(el("div", { className: "shopdesk-notice", "data-testid": "shopdesk-notice" }, message));
  scrollToEnd(ui);
}
