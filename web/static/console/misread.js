/* Misread messages: how the bot read each shopper message, a "Misunderstood?" control on the
 * bot's answer to it, and the agents' verdicts (POST/DELETE …/corrections). */

import { convPath } from "./api.js";
import { $, announce, el, valueText } from "./dom.js";
import { clearError, handleError } from "./notices.js";
import { recordedSeq } from "./transcript.js";

/** Adds the intent lines, marks and controls to the transcript. Idempotent: runs after every
 * render of the transcript. */
export function decorateTranscript(c) {
  const conv = c.conv.current;
  if (!conv) return;
  const transcript = $("transcript");
  let pending = null; // the shopper message the next bot turn answers
  conv.messages.forEach(function (m) {
    const seq = recordedSeq(m);
    if (seq === null || !m) return;
    const li = transcript.querySelector('li[data-seq="' + seq + '"]');
    if (!li) return;
    if (m.sender === "user") {
      pending = null;
      if (typeof m.intent !== "string") return;
      if (!li.querySelector(".msg-intent")) li.appendChild(intentLine(m));
      if (!li.querySelector(".msg-marked")) {
        const marked = el("div", "msg-marked");
        marked.setAttribute("data-testid", "console-marked");
        marked.dataset.seq = String(seq);
        marked.hidden = true;
        li.appendChild(marked);
      }
      if (m.markable !== false) pending = { seq: seq, text: m.text };
    } else {
      if (m.sender === "bot" && pending && !li.querySelector(".misread")) {
        li.appendChild(misreadControl(c, pending.seq, pending.text));
      }
      pending = null;
    }
  });
  renderMarks(c);
}

function intentLine(message) {
  const line = el("div", "msg-intent");
  line.setAttribute("data-testid", "console-intent");
  let text = message.intent ? "read as " + message.intent : "read as no intent";
  if (typeof message.confidence === "number") text += " · " + Math.round(message.confidence * 100) + " %";
  line.textContent = text;
  return line;
}

function correctionFor(c, seq) {
  const list = c.conv.current ? c.conv.current.corrections : [];
  for (let i = 0; i < list.length; i += 1) {
    if (list[i] && list[i].seq === seq) return list[i];
  }
  return null;
}

function renderMarks(c) {
  const nodes = $("transcript").querySelectorAll(".msg-marked");
  for (let i = 0; i < nodes.length; i += 1) {
    const node = nodes[i];
    const seq = Number(node.dataset.seq);
    const correction = correctionFor(c, seq);
    const signature = correction
      ? JSON.stringify([correction.intent, correction.is_new_intent, correction.agent])
      : "";
    if (node.dataset.signature === signature) continue;
    node.dataset.signature = signature;
    node.replaceChildren();
    node.hidden = !correction;
    if (!correction) continue;
    let text = "marked: " + valueText(correction.intent) + (correction.is_new_intent ? " (new intent)" : "");
    if (correction.agent) text += " · by " + valueText(correction.agent);
    node.appendChild(el("span", null, text));
    const undo = el("button", "btn-link", "Undo");
    undo.type = "button";
    undo.setAttribute("data-testid", "console-marked-undo");
    undo.setAttribute("aria-label", "Undo: " + text);
    undo.addEventListener("click", (event) => unmark(c, seq, event.currentTarget));
    node.appendChild(undo);
  }
}

function misreadControl(c, seq, shopperText) {
  const box = el("div", "misread");
  const toggle = el("button", "btn-link misread-toggle", "Misunderstood?");
  toggle.type = "button";
  toggle.dataset.seq = String(seq);
  toggle.setAttribute("data-testid", "console-misread");
  toggle.setAttribute("aria-expanded", "false");
  toggle.setAttribute("aria-controls", "misread-form-" + seq);
  toggle.setAttribute("aria-label", "Misunderstood? Mark how the bot read the shopper's message");
  toggle.addEventListener("click", function () {
    const open = box.querySelector("form");
    if (open) closeMisread(box, toggle);
    else openMisread(c, box, toggle, seq, shopperText);
  });
  box.appendChild(toggle);
  return box;
}

function loadIntents(c) {
  if (!c.conv.intents) {
    c.conv.intents = c.api("GET", "intents").then(
      function (data) {
        return Array.isArray(data.intents) ? data.intents : [];
      },
      function (err) {
        c.conv.intents = null; // try again next time
        throw err;
      }
    );
  }
  return c.conv.intents;
}

function openMisread(c, box, toggle, seq, shopperText) {
  const form = el("form", "misread-form");
  form.id = "misread-form-" + seq;
  form.noValidate = true;
  form.setAttribute("data-testid", "console-misread-form");
  let quoted = String(shopperText || "");
  if (quoted.length > 80) quoted = quoted.slice(0, 79) + "…";
  form.appendChild(el("p", "misread-hint", "What did the shopper mean by “" + quoted + "”?"));

  const selectId = "misread-intent-" + seq;
  const row = el("div", "misread-row");
  const pick = el("div", "field-inline");
  const pickLabel = el("label", null, "Right intent");
  pickLabel.htmlFor = selectId;
  const select = el("select");
  select.id = selectId;
  select.setAttribute("data-testid", "console-misread-intent");
  select.appendChild(new Option("Loading intents…", ""));
  pick.append(pickLabel, select);

  const inputId = "misread-new-" + seq;
  const fresh = el("div", "field-inline");
  const freshLabel = el("label", null, "or a new intent");
  freshLabel.htmlFor = inputId;
  const input = el("input");
  input.type = "text";
  input.id = inputId;
  input.placeholder = "gift_wrapping";
  input.autocomplete = "off";
  input.spellcheck = false;
  input.maxLength = 64;
  input.setAttribute("data-testid", "console-misread-new");
  fresh.append(freshLabel, input);

  const save = el("button", "btn btn-primary btn-small", "Save");
  save.type = "submit";
  save.setAttribute("data-testid", "console-misread-save");
  const cancel = el("button", "btn btn-small", "Cancel");
  cancel.type = "button";
  row.append(pick, fresh, save, cancel);
  form.appendChild(row);
  const problem = el("p", "misread-error");
  problem.setAttribute("role", "alert");
  form.appendChild(problem);

  const fields = { box, toggle, seq, select, input, save, problem };
  cancel.addEventListener("click", function () {
    closeMisread(box, toggle);
  });
  form.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closeMisread(box, toggle);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submitMisread(c, fields);
  });

  box.appendChild(form);
  toggle.setAttribute("aria-expanded", "true");
  select.focus();
  loadIntents(c).then(
    function (intents) {
      const current = correctionFor(c, seq);
      select.replaceChildren(new Option("Choose an intent…", ""));
      intents.forEach(function (name) {
        select.appendChild(new Option(String(name), String(name)));
      });
      if (current && !current.is_new_intent) select.value = String(current.intent);
      if (current && current.is_new_intent) input.value = String(current.intent);
    },
    function (err) {
      if (err.status === 401) return handleError(c, err);
      select.replaceChildren(new Option("(the list could not be loaded)", ""));
      problem.textContent = err.message || "The list of intents could not be loaded.";
    }
  );
}

function closeMisread(box, toggle) {
  const form = box.querySelector("form");
  if (form) form.remove();
  toggle.setAttribute("aria-expanded", "false");
  toggle.focus();
}

function submitMisread(c, fields) {
  const { box, toggle, seq, select, input, save, problem } = fields;
  const chosen = select.value;
  const typed = input.value.trim();
  problem.textContent = "";
  if (!chosen && !typed) {
    problem.textContent = "Choose the right intent, or type a new intent name.";
    select.focus();
    return;
  }
  if (chosen && typed) {
    problem.textContent = "Choose an intent from the list or type a new one, not both.";
    input.focus();
    return;
  }
  const id = c.conv.openId;
  const body = chosen ? { seq: seq, intent: chosen } : { seq: seq, new_intent: typed };
  save.disabled = true;
  c.api("POST", convPath(id, "corrections"), body)
    .then(function (data) {
      if (c.conv.openId !== id || !c.conv.current) return;
      setCorrection(c, seq, data.correction || null);
      closeMisread(box, toggle);
      announce(
        "Marked the shopper's message as " + (data.correction ? data.correction.intent : "misunderstood") + "."
      );
    })
    .catch(function (err) {
      if (err.status === 401) return handleError(c, err);
      problem.textContent = err.message || "Saving failed.";
    })
    .then(function () {
      save.disabled = false;
    });
}

function setCorrection(c, seq, correction) {
  const conv = c.conv.current;
  conv.corrections = conv.corrections.filter(function (other) {
    return other && other.seq !== seq;
  });
  if (correction) conv.corrections.push(correction);
  renderMarks(c);
}

function unmark(c, seq, button) {
  const id = c.conv.openId;
  button.disabled = true;
  clearError(c);
  c.api("DELETE", convPath(id, "corrections/" + seq))
    .then(function () {
      if (c.conv.openId !== id || !c.conv.current) return;
      setCorrection(c, seq, null);
      announce("The mark was removed.");
      const toggle = $("transcript").querySelector('.misread-toggle[data-seq="' + seq + '"]');
      if (toggle) toggle.focus();
    })
    .catch(function (err) {
      button.disabled = false;
      handleError(c, err);
    });
}
