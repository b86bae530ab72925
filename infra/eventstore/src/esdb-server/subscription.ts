/**
 * What both subscription kinds share: confirm, then relay a backing-store
 * subscription (catch-up then live) to the reader until either side ends,
 * closing the store subscription whatever happens.
 */
import { randomUUID } from 'node:crypto';
import type { Subscription, SubscriptionMessage } from '../event-store.js';
import type { ServerContext } from './context.js';
import { confirmationResponse } from './convert.js';
import type { ReadResp } from './protocol.js';
import type { ResponseWriter } from './writer.js';

/** The store subscription ended while the reader was still there (e.g. the store was closed). */
export class SubscriptionEnded extends Error {
  override readonly name = 'SubscriptionEnded';
  constructor() {
    super('The subscription was ended by the server.');
  }
}

/** Turns one store message into the responses to send (possibly none). */
export type Relay = (message: SubscriptionMessage) => ReadResp[];

export async function relaySubscription(
  context: ServerContext,
  writer: ResponseWriter<ReadResp>,
  subscription: Subscription,
  relay: Relay,
): Promise<void> {
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= subscription.close());
  const forget = context.onClose(close);
  writer.onClose(() => void close());
  try {
    if (!(await writer.write(confirmationResponse(randomUUID())))) return;
    for await (const message of subscription) {
      for (const response of relay(message)) {
        if (!(await writer.write(response))) return;
      }
    }
    if (!writer.closed) throw new SubscriptionEnded();
  } finally {
    forget();
    await close();
  }
}
