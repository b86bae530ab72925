/**
 * A graphql-ws client over `ws`, as a browser or a dashboard would connect:
 * one socket per client, subscriptions recorded as they arrive, the close
 * code and reason kept, and the raw socket at hand (to pause it, or to read
 * exactly what the server sent).
 */
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import type { TestGateway } from './client.js';

export interface Closed {
  code: number;
  reason: string;
}

export const WORKSPACE_EVENTS = `subscription WorkspaceEvents($workspaceId: ID!, $after: String) {
  workspaceEvents(workspaceId: $workspaceId, after: $after) {
    cursor position stream revision organizationId workspaceId type actor correlationId recordedAt data
  }
}`;

export interface WorkspaceEventResult {
  cursor: string;
  position: string;
  stream: string;
  revision: string;
  organizationId: string;
  workspaceId: string;
  type: string;
  actor: string | null;
  correlationId: string | null;
  recordedAt: string;
  data: Record<string, unknown>;
}

/** Waits until `condition` holds; fails with `what` after `timeoutMs`. */
export async function eventually(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export class WsClient {
  readonly sockets: WebSocket[] = [];
  /** Every text frame the server sent, as received. */
  readonly frames: string[] = [];
  readonly closes: Closed[] = [];
  private readonly client: Client;

  /** `params`: the connection_init payload (e.g. `{ authorization: 'Bearer …' }`). */
  constructor(gateway: TestGateway, params: Record<string, unknown>) {
    const sockets = this.sockets;
    const frames = this.frames;
    class TrackedWebSocket extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols);
        sockets.push(this);
        this.on('message', (data) => frames.push(String(data)));
      }
    }
    this.client = createClient({
      url: `${gateway.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: TrackedWebSocket,
      connectionParams: params,
      retryAttempts: 0,
      on: {
        closed: (event) => {
          const { code, reason } = event as { code: number; reason: string | Buffer };
          this.closes.push({ code, reason: String(reason) });
        },
      },
    });
  }

  /** A client authenticated as `userId` with a freshly minted token. */
  static async as(gateway: TestGateway, userId: string): Promise<WsClient> {
    return new WsClient(gateway, { authorization: await gateway.authorization(userId) });
  }

  subscribe(query: string, variables: Record<string, unknown> = {}): Stream {
    return new Stream(this.client, query, variables);
  }

  events(workspaceId: string, after?: string): Stream {
    return this.subscribe(WORKSPACE_EVENTS, after === undefined ? { workspaceId } : { workspaceId, after });
  }

  /** The socket the client opened (it opens one at a time). */
  get socket(): WebSocket {
    const socket = this.sockets.at(-1);
    if (!socket) throw new Error('no socket yet');
    return socket;
  }

  async closed(): Promise<Closed> {
    await eventually(() => this.closes.length > 0, 'the socket to close');
    return this.closes[0]!;
  }

  async dispose(): Promise<void> {
    await this.client.dispose();
  }
}

/** One subscription: its results in order, and how it ended. */
export class Stream {
  readonly results: FormattedExecutionResult[] = [];
  error: unknown;
  completed = false;
  readonly unsubscribe: () => void;

  constructor(client: Client, query: string, variables: Record<string, unknown>) {
    this.unsubscribe = client.subscribe(
      { query, variables },
      {
        next: (result) => this.results.push(result as FormattedExecutionResult),
        error: (error) => {
          this.error = error;
        },
        complete: () => {
          this.completed = true;
        },
      },
    );
  }

  get events(): WorkspaceEventResult[] {
    return this.results.filter((result) => result.data).map((result) => (result.data as { workspaceEvents: WorkspaceEventResult }).workspaceEvents);
  }

  get positions(): string[] {
    return this.events.map((event) => event.position);
  }

  /** The codes of the errors the stream got: in results, or as an error message. */
  get errorCodes(): unknown[] {
    const inResults = this.results.flatMap((result) => result.errors ?? []).map((error) => error.extensions?.['code']);
    const asError = Array.isArray(this.error) ? (this.error as { extensions?: { code?: unknown } }[]).map((error) => error.extensions?.code) : [];
    return [...inResults, ...asError];
  }

  async until(condition: (stream: Stream) => boolean, what: string, timeoutMs?: number): Promise<void> {
    await eventually(() => condition(this), what, timeoutMs);
  }

  /** Waits until the stream holds an event at `position` (a log position) or later. */
  async through(position: bigint | string, timeoutMs?: number): Promise<void> {
    const target = BigInt(position);
    await this.until((s) => s.events.some((event) => BigInt(event.position) >= target) || s.completed || s.error !== undefined, `an event at ${target}`, timeoutMs);
    if (this.error !== undefined || (this.completed && !this.events.some((event) => BigInt(event.position) >= target))) {
      throw new Error(`the subscription ended before ${target}: ${JSON.stringify({ error: this.error, results: this.results.slice(-3) })}`);
    }
  }

  async ended(timeoutMs?: number): Promise<void> {
    await this.until((s) => s.completed || s.error !== undefined, 'the subscription to end', timeoutMs);
  }
}
