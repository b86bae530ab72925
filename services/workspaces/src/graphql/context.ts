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
  /** How the reconciler running in this process sees a cluster; absent when none runs here. */
  clusterSync?(clusterId: string): ClusterSyncView | undefined;
}

/** A cluster's state as the reconciler reports it (services/reconciler). */
export interface ClusterSyncView {
  state: 'in-sync' | 'out-of-sync' | 'unreachable';
  reason: string | null;
  message: string | null;
  since: string;
  lastAttemptAt: string | null;
  lastSyncedAt: string | null;
}
