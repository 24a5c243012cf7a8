/* Who is signed in: the agent ({id, username, display_name, role}) and the session's CSRF
 * token, both from GET me or POST login, in memory only. */

export function createSession() {
  return { agent: null, csrf: null };
}

export function isAdmin(session) {
  return !!(session.agent && session.agent.role === "admin");
}

/** Whether this agent holds `handoff`. */
export function isMine(session, handoff) {
  return !!(handoff && session.agent && handoff.agent_id != null && handoff.agent_id === session.agent.id);
}
