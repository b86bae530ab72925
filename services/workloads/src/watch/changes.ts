import type { WatchedWorkloadKind, WorkloadRemovalCause, WorkloadStatus } from '@canopy/schema';
import { sameStatus, type ObservedStatus } from '../status/status-of.js';

/** Which workload, in a workspace. */
export interface WorkloadRef {
  clusterId: string;
  namespace: string;
  kind: WatchedWorkloadKind;
  name: string;
}

/** A workload as the log last recorded it: its status, and since when it has it. */
export interface KnownWorkload extends WorkloadRef, ObservedStatus {
  since: string;
}

/** The payloads of the events one drain produces, in order. */
export type WorkloadChange =
  | { type: 'WorkloadStatusChanged'; data: WorkloadRef & ObservedStatus & { workspaceId: string; previousStatus: WorkloadStatus | null; observedAt: string; since: string } }
  | { type: 'WorkloadRemoved'; data: WorkloadRef & { workspaceId: string; cause: WorkloadRemovalCause; previousStatus: WorkloadStatus; observedAt: string } };

type Pending = { removed: false; ref: WorkloadRef; observed: ObservedStatus; at: string } | { removed: true; ref: WorkloadRef; cause: WorkloadRemovalCause; at: string };

export const workloadKey = (ref: WorkloadRef): string => `${ref.clusterId}\u0000${ref.namespace}\u0000${ref.kind}\u0000${ref.name}`;

/**
 * One workspace's workloads: what the log holds about each (`known`), and
 * what was observed since the last drain (`pending`, the latest observation
 * per workload). An observation equal to what the log holds is no change;
 * several observations of one workload between two drains become one event
 * (its latest state), and none when it ends where it started.
 */
export class WorkloadChanges {
  private readonly known = new Map<string, KnownWorkload>();
  private readonly pending = new Map<string, Pending>();

  constructor(readonly workspaceId: string) {}

  /** What the log held when watching started (the read model's rows). */
  seed(workloads: Iterable<KnownWorkload>): void {
    for (const workload of workloads) this.known.set(workloadKey(workload), workload);
  }

  observe(ref: WorkloadRef, observed: ObservedStatus, at: string): void {
    const key = workloadKey(ref);
    const known = this.known.get(key);
    if (known && sameStatus(known, observed)) this.pending.delete(key);
    else this.pending.set(key, { removed: false, ref, observed, at });
  }

  remove(ref: WorkloadRef, cause: WorkloadRemovalCause, at: string): void {
    const key = workloadKey(ref);
    if (this.known.has(key)) this.pending.set(key, { removed: true, ref, cause, at });
    else this.pending.delete(key);
  }

  /** The workloads that exist as far as this watcher knows (recorded or just observed): all, or those of one cluster, namespace and kind. */
  existing(clusterId?: string, namespace?: string, kind?: WatchedWorkloadKind): WorkloadRef[] {
    const matches = (ref: WorkloadRef) => (clusterId === undefined || ref.clusterId === clusterId) && (namespace === undefined || ref.namespace === namespace) && (kind === undefined || ref.kind === kind);
    const found: WorkloadRef[] = [];
    for (const [key, known] of this.known) {
      if (!matches(known)) continue;
      if (!this.pending.get(key)?.removed) found.push(known);
    }
    for (const [key, pending] of this.pending) if (!pending.removed && !this.known.has(key) && matches(pending.ref)) found.push(pending.ref);
    return found;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** The events for everything pending, in observation order; from now on the log is taken to hold them. */
  drain(): WorkloadChange[] {
    const changes: WorkloadChange[] = [];
    const workspaceId = this.workspaceId;
    for (const [key, pending] of this.pending) {
      const previous = this.known.get(key);
      const { clusterId, namespace, kind, name } = pending.ref;
      if (pending.removed) {
        if (!previous) continue;
        changes.push({ type: 'WorkloadRemoved', data: { workspaceId, clusterId, namespace, kind, name, cause: pending.cause, previousStatus: previous.status, observedAt: pending.at } });
        this.known.delete(key);
        continue;
      }
      const { status, replicas, reason, message } = pending.observed;
      const since = previous && previous.status === status ? previous.since : pending.at;
      changes.push({
        type: 'WorkloadStatusChanged',
        data: { workspaceId, clusterId, namespace, kind, name, status, previousStatus: previous?.status ?? null, replicas, reason, message, observedAt: pending.at, since },
      });
      this.known.set(key, { clusterId, namespace, kind, name, status, replicas, reason, message, since });
    }
    this.pending.clear();
    return changes;
  }
}
