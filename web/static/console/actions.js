/* What the agent does with the open conversation: take it, reply, add a note, hand it back or
 * close it (with a confirmation). One action at a time (`c.conv.busy`). */

import { convPath } from "./api.js";
import { $, announce, now } from "./dom.js";
import { renderControls, refetchConversation, scheduleRefetch } from "./conversation.js";
import { clearError, handleError, showError } from "./notices.js";
import { appendMessage, messageKey, renderNotes, scrollTranscript } from "./transcript.js";

function runAction(c, action, body, onDone) {
  const conv = c.conv;
  const id = conv.openId;
  if (!id || conv.busy) return Promise.resolve();
  clearError(c);
  conv.busy = true;
  renderControls(c);
  const rerender = function () {
    if (c.session.agent) renderControls(c);
  };
  return c
    .api("POST", convPath(id, action), body)
    .then(function (data) {
      conv.busy = false;
      if (conv.openId === id) onDone(data);
    })
    .catch(function (err) {
      conv.busy = false;
      handleError(c, err);
      if (err.status === 409 && conv.openId === id) {
        // Someone else has it: show who, from the conversation as it is now.
        refetchConversation(c);
      }
      throw err;
    })
    .then(rerender, rerender);
}

function setHandoff(c, data) {
  if (data && data.handoff && c.conv.current) {
    c.conv.current.handoff = data.handoff;
    c.conv.fetchedAt = now();
  }
  c.refreshQueue();
  // The server tells the shopper (a greeting, a goodbye): show it without waiting for a poll.
  scheduleRefetch(c);
}

export function onTake(c) {
  runAction(c, "take", undefined, function (data) {
    setHandoff(c, data);
    renderControls(c);
    announce("You have taken over this conversation.");
    $("reply-input").focus();
  });
}

export function onHandBack(c) {
  runAction(c, "hand_back", undefined, function (data) {
    setHandoff(c, data);
    announce("Handed back to the bot.");
    $("conv-title").focus();
  });
}

export function onClose(c) {
  c.conv.confirmingClose = true;
  renderControls(c);
  $("close-yes").focus();
}

export function onCloseCancel(c) {
  c.conv.confirmingClose = false;
  renderControls(c);
  $("close").focus();
}

export function onCloseConfirm(c) {
  c.conv.confirmingClose = false;
  runAction(c, "close", undefined, function (data) {
    setHandoff(c, data);
    announce("Conversation closed.");
    $("conv-title").focus();
  });
}

export function onReply(c, event) {
  event.preventDefault();
  const input = $("reply-input");
  const text = input.value.trim();
  if (!text) {
    showError("Write a reply first.");
    input.focus();
    return;
  }
  runAction(c, "reply", { text: text }, function (data) {
    const conv = c.conv;
    input.value = "";
    if (data && data.message && conv.current && conv.seen) {
      if (!conv.seen.has(messageKey(data.message))) {
        conv.current.messages.push(data.message);
        appendMessage(c, data.message, true);
      }
      scrollTranscript(true);
    }
  })
    .catch(function () {})
    .then(function () {
      if (!input.disabled) input.focus();
    });
}

export function onNote(c, event) {
  event.preventDefault();
  const input = $("note-input");
  const text = input.value.trim();
  if (!text) {
    showError("Write the note first.");
    input.focus();
    return;
  }
  runAction(c, "note", { text: text }, function (data) {
    input.value = "";
    if (data && data.note && c.conv.current) {
      c.conv.current.notes.push(data.note);
      renderNotes(c.conv.current.notes);
      announce("Note added.");
    }
  })
    .catch(function () {})
    .then(function () {
      if (!input.disabled) input.focus();
    });
}

/** Enter submits a composer; Shift+Enter keeps a new line. */
export function submitOnEnter(form) {
  return function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      if (typeof form.requestSubmit === "function") form.requestSubmit();
      else form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  };
}
