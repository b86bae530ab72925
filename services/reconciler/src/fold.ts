import type { ReadDomainEvent } from '@canopy/eventstore';
import { addressKey, type ClusterAddress } from '@canopy/kube';
import { CLUSTER_STREAM_PREFIX, type ClusterSyncFailureReason } from '@canopy/schema';
import { evolveWorkspace, initialWorkspaceState, workspaceStream, type WorkspaceEvent, type WorkspaceState } from '@canopy/workspaces';

export const WORKSPACE_PREFIX = workspaceStream('');

/** One attachment of a cluster to a workspace (a cluster id), live until detached or its workspace deleted. */
export interface Attachment {
  clusterId: string;
  workspaceId: string;
  name: string;
  address: ClusterAddress;
  /** The target the attachment belongs to: the workspace on that cluster. */
  target: string;
  live: boolean;
  cause: 'detached' | 'workspace-deleted' | undefined;
}

/** The last outcome recorded on an attachment's stream. */
export type RecordedOutcome =
  | { kind: 'synced'; desiredHash: string; at: string }
  | { kind: 'failed'; reason: ClusterSyncFailureReason; message: string; desiredHash: string | null; at: string }
  | { kind: 'released'; at: string };

export interface ClusterStreamState {
  revision: bigint | undefined;
  outcome: RecordedOutcome | undefined;
}

/** A target: one workspace on one cluster (clusters are told apart by their address, so a cluster detached and attached again is one target). */
export function targetKey(workspaceId: string, address: ClusterAddress): string {
  return `${workspaceId}\u0000${addressKey(address)}`;
}

/**
 * What the reconciler needs from the log, folded: every workspace's state
 * (closed ones too: their clusters still need cleaning up), every
 * attachment, and the last outcome recorded per attachment.
 */
export class ReconcilerFold {
  private readonly workspaces = new Map<string, { state: WorkspaceState; revision: bigint }>();
  private readonly attachments = new Map<string, Attachment>();
  private readonly byWorkspace = new Map<string, Set<string>>();
  private readonly clusterStreams = new Map<string, ClusterStreamState>();

  /** Folds one event; answers the workspace whose desired state may have changed, if any. */
  apply(event: ReadDomainEvent): string | undefined {
    if (event.stream.startsWith(WORKSPACE_PREFIX)) return this.applyWorkspace(event.stream.slice(WORKSPACE_PREFIX.length), event);
    if (event.stream.startsWith(CLUSTER_STREAM_PREFIX)) this.applyCluster(event.stream.slice(CLUSTER_STREAM_PREFIX.length), event);
    return undefined;
  }

  workspace(workspaceId: string): WorkspaceState | undefined {
    return this.workspaces.get(workspaceId)?.state;
  }

  /** Revision of the workspace stream folded: a run that began at another one applied an older state. */
  workspaceRevision(workspaceId: string): bigint | undefined {
    return this.workspaces.get(workspaceId)?.revision;
  }

  attachment(clusterId: string): Attachment | undefined {
    return this.attachments.get(clusterId);
  }

  attachmentsOf(workspaceId: string): Attachment[] {
    return [...(this.byWorkspace.get(workspaceId) ?? [])].map((id) => this.attachments.get(id)!);
  }

  /** The attachments of one target: at most one live, and any detached ones not released yet. */
  attachmentsAt(target: string): Attachment[] {
    const workspaceId = target.slice(0, target.indexOf('\u0000'));
    return this.attachmentsOf(workspaceId).filter((a) => a.target === target && (a.live || this.clusterStream(a.clusterId).outcome?.kind !== 'released'));
  }

  /** Every target with work: live attachments, and detached ones not released yet. */
  targets(): Set<string> {
    const targets = new Set<string>();
    for (const attachment of this.attachments.values()) {
      if (attachment.live || this.clusterStream(attachment.clusterId).outcome?.kind !== 'released') targets.add(attachment.target);
    }
    return targets;
  }

  clusterStream(clusterId: string): ClusterStreamState {
    return this.clusterStreams.get(clusterId) ?? { revision: undefined, outcome: undefined };
  }

  /** Records what this process appended to an attachment's stream (the subscription's copy is then skipped). */
  recorded(clusterId: string, revision: bigint, outcome: RecordedOutcome): void {
    const known = this.clusterStreams.get(clusterId);
    if (known?.revision !== undefined && known.revision >= revision) return;
    this.clusterStreams.set(clusterId, { revision, outcome });
  }

  private applyWorkspace(workspaceId: string, event: ReadDomainEvent): string | undefined {
    const folded = this.workspaces.get(workspaceId);
    if (folded && event.revision <= folded.revision) return undefined;
    const domainEvent = { type: event.type, data: event.data } as WorkspaceEvent;
    const current = folded?.state ?? initialWorkspaceState;
    // A type the workspace fold does not know (written by a newer service) changes nothing here.
    const state = (evolveWorkspace(current, domainEvent, { occurredAt: event.metadata.occurredAt }) as WorkspaceState | undefined) ?? current;
    this.workspaces.set(workspaceId, { state, revision: event.revision });
    if (domainEvent.type === 'ClusterAttached') {
      const { clusterId, name, connection } = domainEvent.data;
      this.attachments.set(clusterId, { clusterId, workspaceId, name, address: connection, target: targetKey(workspaceId, connection), live: true, cause: undefined });
      const ids = this.byWorkspace.get(workspaceId) ?? new Set<string>();
      this.byWorkspace.set(workspaceId, ids.add(clusterId));
    } else if (domainEvent.type === 'ClusterDetached') {
      const attachment = this.attachments.get(domainEvent.data.clusterId);
      if (attachment) Object.assign(attachment, { live: false, cause: 'detached' });
    } else if (domainEvent.type === 'WorkspaceClosed') {
      for (const attachment of this.attachmentsOf(workspaceId)) if (attachment.live) Object.assign(attachment, { live: false, cause: 'workspace-deleted' });
    }
    return workspaceId;
  }

  private applyCluster(clusterId: string, event: ReadDomainEvent): void {
    const known = this.clusterStreams.get(clusterId);
    if (known?.revision !== undefined && event.revision <= known.revision) return;
    const data = event.data as { desiredHash?: string; reason?: ClusterSyncFailureReason; message?: string };
    const at = event.metadata.occurredAt;
    let outcome = known?.outcome;
    if (event.type === 'ClusterSynced' || event.type === 'ClusterRecovered') outcome = { kind: 'synced', desiredHash: data.desiredHash!, at };
    else if (event.type === 'ClusterSyncFailed') outcome = { kind: 'failed', reason: data.reason!, message: data.message!, desiredHash: data.desiredHash ?? null, at };
    else if (event.type === 'ClusterReleased') outcome = { kind: 'released', at };
    this.clusterStreams.set(clusterId, { revision: event.revision, outcome });
  }
}
