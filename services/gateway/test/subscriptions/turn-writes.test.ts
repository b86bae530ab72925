import { describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { TurnWrites } from '../../src/subscriptions/turn-writes.js';

/** A connected pair of real TCP sockets on loopback. */
async function socketPair(): Promise<{ sender: Socket; receiver: Socket; close(): void }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const accepted = once(server, 'connection');
  const sender = connect(port, '127.0.0.1');
  await once(sender, 'connect');
  const [receiver] = (await accepted) as [Socket];
  return {
    sender,
    receiver,
    close: () => {
      sender.destroy();
      receiver.destroy();
      server.close();
    },
  };
}

describe('TurnWrites', () => {
  it("holds a connection's writes of one turn and sends them together on the next", async () => {
    const { sender, receiver, close } = await socketPair();
    try {
      const writes: number[] = [];
      // Each call to the socket's write path is one system call; count them.
      const writev = (sender as unknown as { _writev: (chunks: unknown[], cb: () => void) => void })._writev.bind(sender);
      (sender as unknown as { _writev: typeof writev })._writev = (chunks, cb) => (writes.push(chunks.length), writev(chunks, cb));
      const received: Buffer[] = [];
      receiver.on('data', (chunk: Buffer) => received.push(chunk));

      const turns = new TurnWrites();
      turns.hold(sender);
      turns.hold(sender);
      sender.write('one;');
      sender.write('two;');
      sender.write('three;');
      expect(sender.writableCorked).toBe(1);
      expect(writes).toEqual([]);
      await nextTurn();
      expect(sender.writableCorked).toBe(0);
      expect(writes).toEqual([3]);
      while (Buffer.concat(received).length < 'one;two;three;'.length) await once(receiver, 'data');
      expect(Buffer.concat(received).toString()).toBe('one;two;three;');
    } finally {
      close();
    }
  });

  it('leaves a connection alone once it is destroyed', async () => {
    const { sender, close } = await socketPair();
    sender.destroy();
    const turns = new TurnWrites();
    turns.hold(sender);
    expect(sender.writableCorked).toBe(0);
    await nextTurn();
    close();
  });
});
