import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { ErrorCode } from '@canopy/schema';
import { BoundedQueue } from './queue.js';

/**
 * The connection to a remote subgraph's graphql-ws endpoint on behalf of one
 * client connection: opened at its first subscription, with the client's
 * credentials (the subgraph authenticates and authorizes the caller itself),
 * closed with the client's connection.
 */
export class Upstream {
  private client: Client | undefined;

  constructor(
    /** The subgraph's GraphQL URL, http(s)://…/graphql: its WebSocket endpoint is the same URL as ws(s)://. */
    private readonly url: string,
    private readonly connectionParams: Record<string, unknown>,
  ) {}

  get connection(): Client {
    this.client ??= createClient({
      url: this.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: this.connectionParams,
      retryAttempts: 0,
    });
    return this.client;
  }

  close(): void {
    const client = this.client;
    this.client = undefined;
    void client?.dispose();
  }
}

export interface RelayDeps {
  subgraph: string;
  /** Results one subscription may hold for its client. */
  maxQueued: number;
  /** The client does not keep up: called once, after the relay closed; the caller closes the connection. */
  onSlowConsumer(): void;
  onQueued?(length: number): void;
  track?(relay: { close(): void }): () => void;
}

/**
 * One subscription relayed to a remote subgraph: its results as the
 * subgraph sends them (already formatted, codes included), through a
 * bounded queue — the upstream socket is read as fast as it delivers, so a
 * client that does not keep up is dropped here, as for an in-process
 * subscription. The subgraph's `error` message, or its socket closing,
 * becomes a last result with the errors, then the subscription completes.
 */
export function relay(upstream: Client, payload: { query: string; variables?: Record<string, unknown> | null; operationName?: string | null }, deps: RelayDeps): AsyncIterableIterator<FormattedExecutionResult> {
  const queue = new BoundedQueue<FormattedExecutionResult>(deps.maxQueued);
  let closed = false;
  let last: FormattedExecutionResult | undefined;
  const untrack = deps.track?.({ close: () => close() });
  const unsubscribe = upstream.subscribe(
    { query: payload.query, ...(payload.variables ? { variables: payload.variables } : {}), ...(payload.operationName ? { operationName: payload.operationName } : {}) },
    {
      next(result) {
        if (closed) return;
        if (queue.push(result as FormattedExecutionResult)) return deps.onQueued?.(queue.length);
        close();
        deps.onSlowConsumer();
      },
      error(error) {
        last = { errors: upstreamErrors(error, deps.subgraph) };
        queue.end();
      },
      complete() {
        queue.end();
      },
    },
  );
  function close(): void {
    if (closed) return;
    closed = true;
    untrack?.();
    unsubscribe();
    queue.close();
  }
  const done = { done: true, value: undefined } as const;
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next(): Promise<IteratorResult<FormattedExecutionResult>> {
      const result = await queue.take();
      if (result !== undefined) return { done: false, value: result };
      if (last && !closed) {
        const value = last;
        last = undefined;
        return { done: false, value };
      }
      close();
      return done;
    },
    async return(): Promise<IteratorResult<FormattedExecutionResult>> {
      close();
      return done;
    },
  };
}

/** The subgraph's own errors pass as they are; a failed or closed connection to it is SUBGRAPH_UNAVAILABLE. */
function upstreamErrors(error: unknown, subgraph: string): FormattedExecutionResult['errors'] {
  if (Array.isArray(error)) return error;
  const closeCode = typeof (error as { code?: unknown })?.code === 'number' ? (error as { code: number }).code : undefined;
  return [
    {
      message: `The ${subgraph} service ended the subscription${closeCode === undefined ? ' (it could not be reached)' : ` (close code ${closeCode})`}: subscribe again, with your last cursor.`,
      extensions: { code: ErrorCode.SUBGRAPH_UNAVAILABLE, subgraph, ...(closeCode === undefined ? {} : { closeCode }) },
    },
  ];
}
