import type { Socket } from 'node:net';

/**
 * Sends what a connection is given in one turn of the event loop as one
 * write. Each WebSocket message is otherwise its own `writev` system call,
 * which on a virtual machine costs more than producing the message; when
 * the log hands over a group of events, a subscriber that has several of
 * them gets them in one. A socket is corked when its first message of the
 * turn is queued and uncorked on the next `setImmediate`, after the turn's
 * deliveries (promise callbacks) have run: nothing waits longer than that.
 */
export class TurnWrites {
  private readonly held = new Set<Socket>();
  private releasing = false;

  /** Holds `socket`'s writes until the end of this turn. */
  hold(socket: Socket): void {
    if (this.held.has(socket) || socket.destroyed) return;
    socket.cork();
    this.held.add(socket);
    if (!this.releasing) {
      this.releasing = true;
      setImmediate(this.release);
    }
  }

  private readonly release = (): void => {
    this.releasing = false;
    for (const socket of this.held) socket.uncork();
    this.held.clear();
  };
}
