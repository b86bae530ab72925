import type { WorkspaceCommands } from '../app/commands.js';
import type { LiveContext } from '../app/event-feed.js';
import type { ReadModelConsistency, WorkspaceReads } from '../app/reads.js';

/** What every resolver of this subgraph gets: the authenticated caller, the command side, and the read models for this caller. */
export interface WorkspacesContext {
  caller: { userId: string };
  commands: WorkspaceCommands;
  /** Made per request: its loaders batch and cache the request's lookups. */
  reads: WorkspaceReads;
  consistency: ReadModelConsistency;
  correlationId?: string;
  /** Subscriptions only (served over graphql-ws): the live event feed and uncached reads. */
  live?: LiveContext;
}
