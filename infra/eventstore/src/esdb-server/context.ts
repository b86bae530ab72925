import type { EventStore } from '../event-store.js';

/** What every RPC handler of one server shares. */
export interface ServerContext {
  readonly store: EventStore;
  /** Largest append accepted, in bytes of event data plus custom metadata. */
  readonly maxAppendSize: number;
  /** Runs `cleanup` when the server closes; the returned function forgets it again. */
  onClose(cleanup: () => Promise<void>): () => void;
}
