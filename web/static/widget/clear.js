/* "Clear chat": asked first in the panel; the server deletes the conversation from Rasa's
 * tracker store and moves this page to a new session (docs/web.md, SECURITY.md). */

import { clearLog, dropOutbox, setWaiting } from "./messages.js";
import { showNotice } from "./ui.js";
import { text } from "./dom.js";

const CLEARED_TEXT = "This chat was cleared. Anything you write now starts a new conversation.";
const CLEAR_OFFLINE_TEXT = "The chat can be cleared once the connection is back.";

export function askToClear(w) {
  w.ui.confirmBar.hidden = false;
  w.ui.confirmNo.focus(); // the safe answer first
}

export function hideConfirm(w, returnFocus) {
  w.ui.confirmBar.hidden = true;
  if (returnFocus) w.ui.clearButton.focus();
}

export function clearChat(w) {
  const state = w.state;
  hideConfirm(w, false);
  if (!state.ready || !state.socket || !state.socket.connected) {
    showNotice(w.ui, CLEAR_OFFLINE_TEXT);
    w.ui.clearButton.focus();
    return;
  }
  state.clearing = true;
  w.ui.clearButton.disabled = true;
  dropOutbox(w);
  state.socket.emit("clear_chat", { session_id: state.sessionId });
}

/** The server deleted the conversation and moved this page to a new one (session_confirm). */
export function onChatCleared(w, data) {
  w.state.clearing = false;
  w.ui.clearButton.disabled = false;
  if (!data || data.cleared !== true) {
    showNotice(w.ui, text(data && data.text) || "Sorry, the chat could not be cleared.");
    return;
  }
  clearLog(w);
  dropOutbox(w);
  setWaiting(w, false);
  showNotice(w.ui, CLEARED_TEXT);
  w.ui.input.focus();
}
