import type { EventLog, ReadDomainEvent } from '@canopy/eventstore';
import type { WorkspaceRole } from '@canopy/schema';
import { evolveOrganization, initialOrganizationState, type OrganizationEvent, type OrganizationState } from '../domain/organization.js';
import { evolveWorkspace, initialWorkspaceState, type WorkspaceEvent, type WorkspaceState } from '../domain/workspace-state.js';
import { ORGANIZATION_PREFIX, organizationStream, versionOf, WORKSPACE_PREFIX, workspaceStream } from './streams.js';

export interface Folded<S> {
  state: S;
  /** Revision of the last event folded; undefined while the stream has none. */
  revision: bigint | undefined;
}

/** What the log holds about one event written under an idempotency key. */
export interface IdempotentEvent {
  stream: string;
  revision: bigint;
  commandHash: string | undefined;
}

export interface WorkspaceView {
  workspaceId: string;
  organizationId: string;
  organization: OrganizationState;
  name: string;
  kind: 'default' | 'project' | 'environment';
  stage: string | null;
  state: WorkspaceState;
  /**
   * What clients pass back as `expectedVersion`: the events of the workspace's
   * own stream plus its renames (recorded on the organization stream, where
   * names are unique), so every change moves it.
   */
  version: number;
  /** Revision of the workspace stream's last event: what its next append expects. */
  streamRevision: bigint | undefined;
}

/**
 * Every organization and workspace folded from the log, in memory: what the
 * command handlers decide on and the queries read. Events arrive from the
 * log's subscription and, for this process's own appends, directly after
 * the append (write-through); the per-stream revision makes the second
 * arrival a no-op, so the fold never sees an event twice.
 */
export class Directory {
  private readonly organizations = new Map<string, Folded<OrganizationState>>();
  private readonly workspaces = new Map<string, Folded<WorkspaceState>>();
  private readonly workspaceOrganization = new Map<string, string>();
  private readonly idempotent = new Map<string, IdempotentEvent>();
  private folded: bigint | undefined;

  /** The log position of the latest event folded: every answer decided on the directory reflects the log up to here. */
  get position(): bigint | undefined {
    return this.folded;
  }

  /** Folds one event of an organization or workspace stream; other streams and already-folded revisions are ignored. */
  apply(event: ReadDomainEvent): void {
    if (event.stream.startsWith(ORGANIZATION_PREFIX)) {
      const id = event.stream.slice(ORGANIZATION_PREFIX.length);
      const folded = this.organizations.get(id) ?? { state: initialOrganizationState, revision: undefined };
      if (!isNext(folded, event.revision)) return;
      const domainEvent = { type: event.type, data: event.data } as OrganizationEvent;
      this.organizations.set(id, { state: evolveOrganization(folded.state, domainEvent), revision: event.revision });
      if (domainEvent.type === 'OrganizationCreated') this.workspaceOrganization.set(domainEvent.data.defaultWorkspace.workspaceId, id);
      if (domainEvent.type === 'WorkspaceCreated') {
        this.workspaceOrganization.set(domainEvent.data.workspaceId, id);
        // A workspace starts with the description it was created with; its own stream changes it from there.
        if (!this.workspaces.has(domainEvent.data.workspaceId)) {
          this.workspaces.set(domainEvent.data.workspaceId, { state: { ...initialWorkspaceState, description: domainEvent.data.description }, revision: undefined });
        }
      }
    } else if (event.stream.startsWith(WORKSPACE_PREFIX)) {
      const id = event.stream.slice(WORKSPACE_PREFIX.length);
      const folded = this.workspaces.get(id) ?? { state: initialWorkspaceState, revision: undefined };
      if (!isNext(folded, event.revision)) return;
      const domainEvent = { type: event.type, data: event.data } as WorkspaceEvent;
      this.workspaces.set(id, { state: evolveWorkspace(folded.state, domainEvent, { occurredAt: event.metadata.occurredAt }), revision: event.revision });
    } else {
      return;
    }
    if (this.folded === undefined || event.position > this.folded) this.folded = event.position;
    if (event.metadata.idempotencyKey !== undefined) {
      this.idempotent.set(event.id, { stream: event.stream, revision: event.revision, commandHash: event.metadata.commandHash });
    }
  }

  /** Reads what the log has beyond the folded revision of one stream (used when a write finds the fold behind). */
  async catchUp(log: EventLog, stream: string): Promise<void> {
    const revision = this.revisionOf(stream);
    const fromRevision = revision === undefined ? 0n : revision + 1n;
    for await (const event of log.readStream(stream, { fromRevision })) this.apply(event);
  }

  /** Whether the event at this revision of the stream is folded already. */
  holds(stream: string, revision: bigint): boolean {
    const folded = this.revisionOf(stream);
    return folded !== undefined && folded >= revision;
  }

  revisionOf(stream: string): bigint | undefined {
    if (stream.startsWith(ORGANIZATION_PREFIX)) return this.organizations.get(stream.slice(ORGANIZATION_PREFIX.length))?.revision;
    return this.workspaces.get(stream.slice(WORKSPACE_PREFIX.length))?.revision;
  }

  organization(organizationId: string): Folded<OrganizationState> | undefined {
    return this.organizations.get(organizationId);
  }

  allOrganizations(): IterableIterator<Folded<OrganizationState>> {
    return this.organizations.values();
  }

  /** A live workspace (registered in its organization, not deleted), or undefined. */
  workspace(workspaceId: string): WorkspaceView | undefined {
    const organizationId = this.workspaceOrganization.get(workspaceId);
    const organization = organizationId === undefined ? undefined : this.organizations.get(organizationId);
    const entry = organization?.state.workspaces.get(workspaceId);
    if (!organizationId || !organization || !entry) return undefined;
    const folded = this.workspaces.get(workspaceId) ?? { state: initialWorkspaceState, revision: undefined };
    if (folded.state.closed) return undefined;
    const { renames, ...described } = entry;
    return {
      workspaceId,
      organizationId,
      organization: organization.state,
      ...described,
      state: folded.state,
      version: versionOf(folded.revision) + renames,
      streamRevision: folded.revision,
    };
  }

  /** Workspaces closed on their stream whose organization still lists them: a deletion that did not finish. */
  unfinishedDeletions(): { workspaceId: string; organizationId: string }[] {
    const pending: { workspaceId: string; organizationId: string }[] = [];
    for (const [workspaceId, folded] of this.workspaces) {
      const organizationId = this.workspaceOrganization.get(workspaceId);
      if (folded.state.closed && organizationId && this.organizations.get(organizationId)?.state.workspaces.has(workspaceId)) {
        pending.push({ workspaceId, organizationId });
      }
    }
    return pending;
  }

  idempotentEvent(eventId: string): IdempotentEvent | undefined {
    return this.idempotent.get(eventId);
  }

  /** Streams a caller could have touched: for tests and diagnostics. */
  streams(): string[] {
    return [...[...this.organizations.keys()].map(organizationStream), ...[...this.workspaces.keys()].map(workspaceStream)];
  }
}

function isNext(folded: Folded<unknown>, revision: bigint): boolean {
  return folded.revision === undefined ? revision === 0n : revision === folded.revision + 1n;
}

/** The caller's role in a workspace: owner for an owner of its organization, else their explicit role, else none. */
export function effectiveRole(workspace: WorkspaceView, userId: string): WorkspaceRole | undefined {
  if (workspace.organization.owners.has(userId)) return 'owner';
  return workspace.state.members.get(userId);
}
