import type { EventLog } from '@canopy/eventstore';
import type { Directory } from './directory.js';
import { ORGANIZATION_PREFIX, WORKSPACE_PREFIX } from './streams.js';

export interface DirectoryFeed {
  /** Resolves once the directory holds everything the log held at start. */
  caughtUp: Promise<void>;
  close(): Promise<void>;
}

/** Keeps the directory folded from the log: catch-up from the start, then live. */
export function feedDirectory(log: EventLog, directory: Directory, onError: (error: unknown) => void): DirectoryFeed {
  const subscription = log.store.subscribeToAll({ filter: { streamPrefixes: [ORGANIZATION_PREFIX, WORKSPACE_PREFIX] } });
  let markCaughtUp!: () => void;
  let fail!: (error: unknown) => void;
  const caughtUp = new Promise<void>((resolve, reject) => {
    markCaughtUp = resolve;
    fail = reject;
  });
  const running = (async () => {
    try {
      for await (const message of subscription) {
        // This process's own appends are usually folded already (write-through): skip them before the cost of upcasting.
        if (message.kind === 'event' && !directory.holds(message.event.stream, message.event.revision)) directory.apply(log.upcast(message.event));
        else if (message.kind === 'caught-up') markCaughtUp();
      }
    } catch (error) {
      fail(error);
      onError(error);
    }
  })();
  return {
    caughtUp,
    async close() {
      await subscription.close();
      await running;
    },
  };
}
