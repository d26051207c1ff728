/**
 * The admin port before its hand-over (src/observability/admin-listener.ts): connections are held
 * unread up to ADMIN_HELD_CONNECTIONS_MAX and answered after the hand-over; one that closes while held
 * is dropped from it; past the bound a connection is closed at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { ADMIN_HELD_CONNECTIONS_MAX, AdminListener } from '../../src/observability/admin-listener.js';
import { waitUntil } from '../helpers/herd-process.js';

/** A client connection that records what it reads and whether it was closed. */
function connect(port: number): { socket: net.Socket; text: () => string; closed: () => boolean } {
  const socket = net.connect(port, '127.0.0.1');
  let text = '';
  let closed = false;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (text += chunk));
  socket.on('error', () => undefined);
  socket.on('close', () => (closed = true));
  return { socket, text: () => text, closed: () => closed };
}

test('held up to the bound and answered after the hand-over; past it closed at once; one closed while held is skipped', async () => {
  const listener = await AdminListener.bind('127.0.0.1', 0);
  const server = http.createServer((_request, response) => response.end('ok'));
  const clients = Array.from({ length: ADMIN_HELD_CONNECTIONS_MAX + 3 }, () => connect(listener.address.port));
  try {
    await waitUntil(() => clients.filter((client) => client.closed()).length === 3, 10_000, 'three to be closed');
    const refused = clients.filter((client) => client.closed());
    assert.equal(refused.length, 3);
    // Closed while held: the hand-over must not trip on it.
    const gone = clients.find((client) => !client.closed()) as (typeof clients)[number];
    gone.socket.destroy();
    await waitUntil(() => gone.closed(), 10_000, 'the client to close');

    await listener.handTo(server);
    const held = clients.filter((client) => !client.closed());
    assert.equal(held.length, ADMIN_HELD_CONNECTIONS_MAX - 1);
    for (const client of held) client.socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await waitUntil(
      () => held.every((client) => client.text().endsWith('\r\n\r\nok')),
      10_000,
      'every held one answered',
    );
    assert.ok(held.every((client) => client.text().startsWith('HTTP/1.1 200 ')));
  } finally {
    for (const client of clients) client.socket.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
