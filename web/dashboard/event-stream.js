// The dashboard's event stream (GET events, text/event-stream) read with fetch rather than
// EventSource, so that it carries the Authorization header like every other request (admin-token.js).
// It reconnects RETRY_MS after it ends or fails, as an EventSource would.
import { AuthError, askForToken, authFetch } from './admin-token.js';

/** Wait before reconnecting, ms (the `retry:` the server sends says the same). */
const RETRY_MS = 2000;

/**
 * Calls `onEvent(type, data)` for each whole message in `text` (messages end with a blank line;
 * `event:` names the type, `data:` lines carry JSON; comments and `retry:` are skipped; a message
 * whose data is not JSON is dropped).
 *
 * @returns what is left after the last whole message.
 */
export function parseEvents(text, onEvent) {
  let start = 0;
  for (let end = text.indexOf('\n\n'); end !== -1; end = text.indexOf('\n\n', start)) {
    let type = 'message';
    const data = [];
    for (const line of text.slice(start, end).split('\n')) {
      if (line.startsWith('event:')) type = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
    }
    start = end + 2;
    if (data.length === 0) continue;
    let parsed;
    try {
      parsed = JSON.parse(data.join('\n'));
    } catch {
      continue;
    }
    onEvent(type, parsed);
  }
  return text.slice(start);
}

/**
 * Opens the stream and keeps it open: `onOpen()` at each connection, `onEvent(type, data)` for each
 * message, `onDrop()` when it ends or fails (then it reconnects). A 401 or 403 asks for a token and
 * reconnects with it.
 *
 * @returns a function that closes the stream for good.
 */
export function openEventStream({ onOpen, onEvent, onDrop }) {
  let stopped = false;
  let controller;
  const run = async () => {
    while (!stopped) {
      try {
        controller = new AbortController();
        const response = await authFetch('events', { signal: controller.signal });
        if (!response.ok || response.body === null) throw new Error(`events answered ${response.status}`);
        onOpen();
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let rest = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          rest = parseEvents(rest + value, onEvent);
        }
      } catch (error) {
        if (error instanceof AuthError) {
          await askForToken(error.message);
          continue;
        }
      }
      if (stopped) return;
      onDrop();
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  };
  void run();
  return () => {
    stopped = true;
    controller?.abort();
  };
}
