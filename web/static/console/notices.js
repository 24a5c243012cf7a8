/* Messages to the agent: the error line, and what a failed request means (401: back to the
 * sign-in form, through the context's `expired` hook; else the server's sentence). */

import { $ } from "./dom.js";

export const EXPIRED_TEXT = "Your session has expired, please sign in again.";

export function showError(message) {
  const area = $("error");
  if (area.textContent !== message) area.textContent = message;
}

export function clearError(c) {
  $("error").textContent = "";
  c.queue.pollError = false;
}

/** 401 anywhere: back to the sign-in form; anything else: the server's {"error"} text. */
export function handleError(c, err) {
  if (err && err.status === 401) {
    c.expired();
    return;
  }
  showError(err && err.message ? err.message : "Something went wrong.");
}
