import type { EventLog } from '@canopy/eventstore';
import type { BackupsDirectory } from './directory.js';
import { BACKUP_STREAM_PREFIXES } from './streams.js';

export interface DirectoryFeed {
  /** Resolves once the directory holds everything the log held at start. */
  caughtUp: Promise<void>;
  close(): Promise<void>;
}

/** Keeps the backups directory folded from the log: catch-up from the start, then live. */
export function feedBackupsDirectory(log: EventLog, directory: BackupsDirectory, onError: (error: unknown) => void): DirectoryFeed {
  const subscription = log.store.subscribeToAll({ filter: { streamPrefixes: [...BACKUP_STREAM_PREFIXES] } });
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
