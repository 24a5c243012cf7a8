/* One widget's state. main.js makes one and passes it, with the UI and the store, to every
 * module as the widget context `w` ({state, ui, store, origin, title, say}). */

export function createState() {
  return {
    sessionId: null,
    lastSeq: -1, // the highest seq shown
    seqs: new Set(), // the seqs shown
    ids: new Set(), // the message_ids of the user messages shown
    outbox: [], // {message, message_id, display_text?} typed but not sent yet
    socket: null,
    loading: false,
    connected: false,
    everConnected: false,
    ready: false, // session confirmed and history read: the outbox may be sent
    awaitingHistory: false,
    historyTimer: 0,
    serverTyping: false,
    typingTimer: 0,
    waiting: false,
    waitTimer: 0,
    idleMs: 0, // the server's idle limit (session_confirm's idle_s); 0: not told
    lastActivity: Date.now(),
    clearing: false,
  };
}
