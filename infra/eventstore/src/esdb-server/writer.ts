/**
 * Writing a server stream with back-pressure, and noticing when the reader
 * went away (cancelled the call, or the server is closing).
 */
import type { ServerErrorResponse, ServerWritableStream } from '@grpc/grpc-js';

export class ResponseWriter<Response> {
  #closed = false;
  readonly #closeListeners = new Set<() => void>();
  readonly #call: ServerWritableStream<unknown, Response>;

  constructor(call: ServerWritableStream<unknown, Response>) {
    this.#call = call;
    call.on('cancelled', () => this.#close());
    call.on('close', () => this.#close());
  }

  get closed(): boolean {
    return this.#closed || this.#call.cancelled;
  }

  /** Calls `listener` once, when the call ends for any reason. */
  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.#closeListeners.add(listener);
  }

  /** Writes one message, waiting while the transport is full; false when the call is over. */
  async write(message: Response): Promise<boolean> {
    if (this.closed) return false;
    if (this.#call.write(message)) return true;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.#call.off('drain', done);
        this.#closeListeners.delete(done);
        resolve();
      };
      this.#call.on('drain', done);
      this.#closeListeners.add(done);
    });
    return !this.closed;
  }

  /** Ends the call with status OK after what was written. */
  end(): void {
    if (this.closed) return;
    this.#call.end();
    this.#close();
  }

  /** Ends the call with an error status (after what was written). */
  fail(error: ServerErrorResponse): void {
    if (this.closed) return;
    this.#call.emit('error', error);
    this.#close();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const listeners = [...this.#closeListeners];
    this.#closeListeners.clear();
    for (const listener of listeners) listener();
  }
}
