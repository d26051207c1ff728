/**
 * An acknowledgement never leaves before the flood of its update (docs/operations.md "Guarantees"):
 * by the time a client has its `AT` reply, the update's bytes are in the kernel on the way to every
 * neighbour, so a crash of the server right after the reply loses nothing. The writes of a server
 * with one neighbour are watched in the order it makes them.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { silentLogger } from '../../src/observability/logger.js';
import { HerdServer } from '../../src/server/herd-server.js';
import { exchange, waitUntil } from '../helpers/herd-process.js';
import { linkPair, zeroResultsPlaces } from '../helpers/one-server.js';

describe('the order of an acknowledgement and its flood', () => {
  test('the flood of an IAMAT is written to the link before its AT reply is written to the client', async () => {
    const common = {
      host: '127.0.0.1',
      places: zeroResultsPlaces,
      logger: silentLogger(),
    };
    const a = new HerdServer({ ...common, name: 'A', port: 0, neighbours: ['B'] });
    const b = new HerdServer({ ...common, name: 'B', port: 0, neighbours: ['A'] });
    const { listeningB, portA } = await linkPair(a, b);
    const writes: string[] = [];
    // The real method, put back in `finally`; only ever called with its socket as `this`.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    const write = net.Socket.prototype.write;
    try {
      await waitUntil(() => a.peerLinks.get('B')?.status === 'up', 5000, 'the link from A to B');
      net.Socket.prototype.write = function (this: net.Socket, ...args: Parameters<typeof write>) {
        const text = String(args[0]);
        if (text.includes('ordered-client')) {
          if (this.remotePort === listeningB.peer.port) writes.push('flood to B');
          else if (this.localPort === portA) writes.push('reply to the client');
        }
        return write.apply(this, args);
      } as typeof write;
      for (let i = 0; i < 20; i++) {
        const reply = await exchange(portA, `IAMAT ordered-client +1+1 ${1_700_000_000 + i}\n`);
        assert.match(reply, /^AT A /);
      }
      assert.deepEqual(writes, Array.from({ length: 20 }, () => ['flood to B', 'reply to the client']).flat());
    } finally {
      net.Socket.prototype.write = write;
      await Promise.all([a.close(), b.close()]);
    }
  });
});
