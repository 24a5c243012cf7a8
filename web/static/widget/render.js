/* One message as the shopper sees it: its text, a product carousel or an image, and quick
 * replies. Pure rendering: `w.say(payload, title)` is called when the shopper picks a button. */

import { bagIcon, el, safeUrl, srOnly, text } from "./dom.js";

const TINTS = 6; // .shopdesk-tint-0 … -5 in widget.css

/** The message's node, or null when it has nothing to show. */
export function renderMessage(w, message, sender) {
  const node = el("div", {
    className: "shopdesk-msg shopdesk-msg--" + sender,
    "data-testid": "shopdesk-message",
    "data-sender": sender,
  });
  if (sender === "agent") {
    node.appendChild(el("div", { className: "shopdesk-agent-name" }, text(message.agent_name) || "Agent"));
  } else {
    node.appendChild(srOnly(sender === "user" ? "You:" : w.title + ":"));
  }
  let shown = false;

  const words = text(message.text);
  if (words) {
    node.appendChild(el("div", { className: "shopdesk-bubble" }, words));
    shown = true;
  }

  const attachment = message.attachment;
  if (attachment && typeof attachment === "object") {
    const payload = attachment.payload && typeof attachment.payload === "object" ? attachment.payload : {};
    if (attachment.type === "template" && payload.template_type === "generic" && Array.isArray(payload.elements)) {
      const carousel = renderCarousel(w, payload.elements);
      if (carousel) {
        node.appendChild(carousel);
        node.classList.add("shopdesk-msg--wide");
        shown = true;
      }
    } else if (attachment.type === "image" && safeUrl(payload.src)) {
      const figure = el("div", { className: "shopdesk-bubble shopdesk-bubble--image" });
      figure.appendChild(el("img", { src: safeUrl(payload.src), alt: text(payload.alt), loading: "lazy" }));
      node.appendChild(figure);
      shown = true;
    }
  }

  if (Array.isArray(message.quick_replies)) {
    const group = renderQuickReplies(w, message.quick_replies);
    if (group) {
      node.appendChild(group);
      shown = true;
    }
  }
  return shown ? node : null;
}

function renderCarousel(w, elements) {
  const list = el("ul", { className: "shopdesk-carousel", role: "list", "aria-label": "Products", tabindex: "0" });
  elements.forEach(function (item) {
    if (!item || typeof item !== "object") return;
    const name = text(item.title);
    const card = el("li", { className: "shopdesk-card", "data-testid": "shopdesk-card" });
    if (text(item.sku)) card.setAttribute("data-sku", text(item.sku));

    card.appendChild(renderCardMedia(name, safeUrl(item.image_url), text(item.sku)));
    const body = el("div", { className: "shopdesk-card-body" });
    if (name) body.appendChild(el("div", { className: "shopdesk-card-title" }, name));
    if (text(item.subtitle)) body.appendChild(el("div", { className: "shopdesk-card-subtitle" }, text(item.subtitle)));
    const note = renderCardNote(item);
    if (note) body.appendChild(note);

    const buttons = el("div", { className: "shopdesk-card-buttons" });
    (Array.isArray(item.buttons) ? item.buttons : []).forEach(function (button) {
      if (!button || typeof button !== "object") return;
      const label = text(button.title);
      if (button.type === "web_url") {
        const url = safeUrl(button.url);
        if (!url) return;
        const link = el(
          "a",
          { className: "shopdesk-card-button", href: url, target: "_blank", rel: "noopener noreferrer" },
          label || "Open"
        );
        if (name) link.appendChild(srOnly(" " + name));
        link.appendChild(srOnly(" (opens in a new tab)"));
        buttons.appendChild(link);
      } else if (button.type === "postback" && text(button.payload)) {
        const action = el("button", { type: "button", className: "shopdesk-card-button" }, label || text(button.payload));
        action.addEventListener("click", function () {
          w.say(text(button.payload), label || null);
        });
        buttons.appendChild(action);
      }
    });
    if (buttons.children.length) body.appendChild(buttons);
    card.appendChild(body);
    list.appendChild(card);
  });
  return list.children.length ? list : null;
}

/**
 * The card's picture box: a placeholder (the product's initials, or a bag, on a tint picked
 * by its name) that the photo covers once it has loaded. A photo that fails (no URL, a dead
 * link, a blocked host) is removed, so the shopper never sees an empty box or a broken icon.
 */
function renderCardMedia(name, image, sku) {
  const media = el("div", { className: "shopdesk-card-media", "data-testid": "shopdesk-card-media" });
  const key = name || sku;
  const placeholder = el("div", {
    className: "shopdesk-card-placeholder shopdesk-tint-" + (hash(key) % TINTS),
    "data-testid": "shopdesk-card-placeholder",
    "aria-hidden": "true", // the title says what it is
  });
  const letters = initials(key);
  if (letters) placeholder.appendChild(el("span", { className: "shopdesk-card-initials" }, letters));
  else placeholder.appendChild(bagIcon());
  media.appendChild(placeholder);
  if (image) {
    const img = el("img", { className: "shopdesk-card-image", src: image, alt: name || "Product", loading: "lazy" });
    img.addEventListener("load", function () {
      if (img.naturalWidth > 0) media.classList.add("shopdesk-card-media--loaded");
      else img.remove();
    });
    img.addEventListener("error", function () {
      img.remove();
    });
    media.appendChild(img);
  }
  return media;
}

/** "Chaz Kangeroo Hoodie" → "CK": the first letters (or digits) of the first two words. */
function initials(name) {
  const letters = [];
  (name || "").split(/\s+/).forEach(function (word) {
    const first = /[A-Za-z0-9\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff]/.exec(word);
    if (first && letters.length < 2) letters.push(first[0].toUpperCase());
  });
  return letters.join("");
}

function hash(value) {
  let h = 0;
  for (let i = 0; i < (value || "").length; i++) h = (h * 31 + value.charCodeAt(i)) >>> 0;
  return h;
}

/** A close match says so, with what it misses of the request ("$56.00, over your $50.00"). */
function renderCardNote(item) {
  const misses = (Array.isArray(item.misses) ? item.misses : []).map(text).filter(Boolean);
  if (item.exact !== false && !misses.length) return null;
  const note = el("div", { className: "shopdesk-card-note", "data-testid": "shopdesk-card-note" });
  note.appendChild(el("span", { className: "shopdesk-card-note-label" }, "Close match"));
  misses.forEach(function (miss) {
    note.appendChild(el("span", { className: "shopdesk-card-miss" }, miss));
  });
  return note;
}

function renderQuickReplies(w, replies) {
  const group = el("div", { className: "shopdesk-quick-replies", role: "group", "aria-label": "Suggested replies" });
  replies.forEach(function (reply) {
    if (!reply || typeof reply !== "object" || !text(reply.payload)) return;
    const payload = text(reply.payload);
    const label = text(reply.title) || payload;
    const button = el(
      "button",
      { type: "button", className: "shopdesk-quick-reply", "data-testid": "shopdesk-quick-reply" },
      label
    );
    button.addEventListener("click", function () {
      if (button.disabled) return;
      disableGroup(group, button);
      w.say(payload, label);
      w.ui.input.focus();
    });
    group.appendChild(button);
  });
  return group.children.length ? group : null;
}

function disableGroup(group, chosen) {
  group.classList.add("shopdesk-quick-replies--answered");
  Array.prototype.forEach.call(group.querySelectorAll("button"), function (button) {
    button.disabled = true;
    if (button === chosen) {
      button.classList.add("shopdesk-quick-reply--chosen");
      button.setAttribute("aria-pressed", "true");
    }
  });
}

/** The shopper said something: earlier suggestions in `log` are answered. */
export function disableQuickReplies(log) {
  const groups = log.querySelectorAll(".shopdesk-quick-replies:not(.shopdesk-quick-replies--answered)");
  Array.prototype.forEach.call(groups, function (group) {
    disableGroup(group, null);
  });
}
