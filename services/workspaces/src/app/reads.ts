import type { JsonValue } from '@canopy/eventstore';
import type { OrganizationKind, WorkspaceKind, WorkspaceRole } from '@canopy/schema';
import type { Limits } from '../domain/quotas.js';

/**
 * What queries read, for one caller: the read models (never the log, never
 * the command side's directory). Implemented over the projections'
 * tables with a DataLoader per lookup, so a page of N workspaces costs one
 * statement per kind of lookup, not N.
 */
export interface WorkspaceReads {
  /** The caller's effective role in the workspace; undefined when none, or no such live workspace. */
  roleIn(workspaceId: string): Promise<WorkspaceRole | undefined>;
  /** The live workspace's summary, whoever asks: callers check `roleIn` first. */
  workspace(workspaceId: string): Promise<WorkspaceRecord | undefined>;
  /** The live workspaces the caller holds a role in, in one organization or all, by organization id then name. */
  workspacesOf(organizationId?: string): Promise<(WorkspaceRecord & { role: WorkspaceRole })[]>;
  members(workspaceId: string): Promise<MemberRecord[]>;
  details(workspaceId: string): Promise<WorkspaceDetails>;
  quotaSettings(workspaceId: string): Promise<QuotaSettings>;
  /** The organization, whoever asks: callers check `belongsTo` first. */
  organization(organizationId: string): Promise<OrganizationRecord | undefined>;
  /** The organizations the caller owns, audits, or holds a workspace role in, by name. */
  organizations(): Promise<OrganizationRecord[]>;
  /** Whether the caller owns, audits, or holds a workspace role in the organization. */
  belongsTo(organizationId: string): Promise<boolean>;
  /** Whether the caller is an auditor of the organization. */
  audits(organizationId: string): Promise<boolean>;
  /** The organization of a workspace, live or deleted (history outlives workspaces). */
  organizationOfWorkspace(workspaceId: string): Promise<string | undefined>;
  history(query: HistoryQuery): Promise<HistoryPage>;
}

export interface WorkspaceRecord {
  workspaceId: string;
  organizationId: string;
  name: string;
  kind: WorkspaceKind;
  stage: string | null;
  description: string;
  version: number;
  memberCount: number;
  clusterCount: number;
  namespaceCount: number;
}

export interface MemberRecord {
  userId: string;
  role: WorkspaceRole;
  source: 'organization-owner' | 'explicit';
}

export type ClusterConnectionRecord = { kind: 'kubeconfig'; path: string; context: string | null } | { kind: 'simulator'; simulator: string };

export interface SubjectRecord {
  kind: string;
  name: string;
  namespace: string | null;
}

export interface WorkspaceDetails {
  clusters: { id: string; name: string; connection: ClusterConnectionRecord }[];
  namespaces: string[];
  roleBindings: { name: string; namespaces: string[]; role: { kind: string; name: string }; subjects: SubjectRecord[] }[];
  clusterRoleBindings: { name: string; clusterRole: string; subjects: SubjectRecord[] }[];
  restrictedImages: { namespace: string; image: string }[];
  /** Names, versions and key names only: values never reach a read model. */
  secrets: { name: string; version: number; keys: string[]; writtenBy: string; writtenAt: string | null }[];
}

export interface QuotaSettings {
  budget: Limits;
  /** Defaults (clusterId null) and per-cluster overrides. */
  quotas: { namespace: string; clusterId: string | null; cpu: Limits['cpu']; memory: Limits['memory'] }[];
}

export interface OrganizationRecord {
  organizationId: string;
  name: string;
  kind: OrganizationKind;
  owners: string[];
  version: number;
}

export interface HistoryQuery {
  /** Exactly one of workspaceId and organizationId. */
  workspaceId?: string;
  organizationId?: string;
  since?: Date;
  until?: Date;
  actor?: string;
  types?: string[];
  /** A cursor: the log position of the last entry of the previous page. */
  after?: bigint;
  first: number;
  newestFirst?: boolean;
}

export interface HistoryRecord {
  position: bigint;
  stream: string;
  revision: bigint;
  organizationId: string;
  workspaceId: string | null;
  type: string;
  actor: string | null;
  correlationId: string | null;
  recordedAt: Date;
  data: JsonValue;
}

export interface HistoryPage {
  entries: HistoryRecord[];
  hasNextPage: boolean;
}

/**
 * Read-your-writes. A mutation records the caller's write; the caller's
 * later reads wait until the read models reflect it (bounded by the
 * server), so they see their own change without the mutation itself
 * waiting for read models it does not read.
 */
export interface ReadModelConsistency {
  /** Resolves once the read models reflect the log up to `position`; false when they did not in time. */
  waitFor(position: bigint | undefined): Promise<boolean>;
  /**
   * Like `waitFor`, for the read models that access checks read only (who
   * holds which role where, which workspaces are live): a subscription's
   * check is not held back, nor refused, by a read model it does not read
   * (workloads, cost) lagging under load.
   */
  waitForAccess(position: bigint | undefined): Promise<boolean>;
  /** The caller wrote up to `position`: their reads from now on wait for it. */
  wrote(userId: string, position: bigint | undefined): void;
}
