import type { ClusterConnection, EventOf, Subject, WorkspaceRole, workspaceEvents } from '@canopy/schema';
import { UNLIMITED, type Limits, type NamespaceQuota } from './quotas.js';

/** The workspace stream's events, as its decider emits and folds them. */
export type WorkspaceEvent = EventOf<(typeof workspaceEvents)[number]>;
export type SealedValue = Extract<WorkspaceEvent, { type: 'SecretWritten' }>['data']['values'][string];

export interface ClusterEntry {
  name: string;
  connection: ClusterConnection;
}

export interface RoleBinding {
  namespaces: readonly string[];
  role: { kind: 'Role' | 'ClusterRole'; name: string };
  subjects: readonly Subject[];
}

export interface ClusterRoleBinding {
  clusterRole: string;
  subjects: readonly Subject[];
}

export interface SecretEntry {
  version: number;
  /** Sealed with the workspace's data key; only the reconciler opens them. */
  values: Readonly<Record<string, SealedValue>>;
  writtenBy: string;
  writtenAt: string | undefined;
}

export interface WorkspaceState {
  /** Set by WorkspaceClosed: the workspace is deleted and nothing changes it any more. */
  closed: boolean;
  description: string;
  /** Explicit members; organization owners own the workspace on top of these. */
  members: ReadonlyMap<string, WorkspaceRole>;
  clusters: ReadonlyMap<string, ClusterEntry>;
  namespaces: ReadonlySet<string>;
  budget: Limits;
  quotas: ReadonlyMap<string, NamespaceQuota>;
  roleBindings: ReadonlyMap<string, RoleBinding>;
  clusterRoleBindings: ReadonlyMap<string, ClusterRoleBinding>;
  /** Restricted image patterns per namespace. */
  restrictedImages: ReadonlyMap<string, ReadonlySet<string>>;
  secrets: ReadonlyMap<string, SecretEntry>;
}

/** A new workspace: no members besides the organization's owners, nothing governed, an unlimited budget. */
export const initialWorkspaceState: WorkspaceState = {
  closed: false,
  description: '',
  members: new Map(),
  clusters: new Map(),
  namespaces: new Set(),
  budget: UNLIMITED,
  quotas: new Map(),
  roleBindings: new Map(),
  clusterRoleBindings: new Map(),
  restrictedImages: new Map(),
  secrets: new Map(),
};

/** When and by whom an event was recorded, from its metadata (absent while deciding). */
export interface EventMeta {
  occurredAt?: string;
}

function withEntry<K, V>(map: ReadonlyMap<K, V>, key: K, value: V): Map<K, V> {
  return new Map(map).set(key, value);
}

function without<K, V>(map: ReadonlyMap<K, V>, key: K): Map<K, V> {
  const copy = new Map(map);
  copy.delete(key);
  return copy;
}

export function evolveWorkspace(state: WorkspaceState, event: WorkspaceEvent, meta: EventMeta = {}): WorkspaceState {
  switch (event.type) {
    case 'WorkspaceDescribed':
      return { ...state, description: event.data.description };
    case 'MemberAdded':
    case 'MemberRoleChanged':
      return { ...state, members: withEntry(state.members, event.data.userId, event.data.role) };
    case 'MemberRemoved':
      return { ...state, members: without(state.members, event.data.userId) };
    case 'WorkspaceClosed':
      return { ...state, closed: true };
    case 'ClusterAttached':
      return { ...state, clusters: withEntry(state.clusters, event.data.clusterId, { name: event.data.name, connection: event.data.connection }) };
    case 'ClusterDetached': {
      // Drops the cluster's overrides, and a namespace's quota entry with them when nothing else is left (as NamespaceQuotaRemoved does).
      const quotas = new Map(
        [...state.quotas]
          .map(([namespace, quota]): [string, NamespaceQuota] => [namespace, { ...quota, overrides: without(quota.overrides, event.data.clusterId) }])
          .filter(([, quota]) => quota.default !== undefined || quota.overrides.size > 0),
      );
      return { ...state, clusters: without(state.clusters, event.data.clusterId), quotas };
    }
    case 'NamespaceAdded':
      return { ...state, namespaces: new Set([...state.namespaces, event.data.namespace]) };
    case 'NamespaceRemoved': {
      const namespaces = new Set(state.namespaces);
      namespaces.delete(event.data.namespace);
      return { ...state, namespaces, quotas: without(state.quotas, event.data.namespace), restrictedImages: without(state.restrictedImages, event.data.namespace) };
    }
    case 'WorkspaceBudgetSet':
      return { ...state, budget: { cpu: event.data.cpu, memory: event.data.memory } };
    case 'NamespaceQuotaSet':
    case 'NamespaceQuotaRemoved': {
      const { namespace, clusterId } = event.data;
      const limits = event.type === 'NamespaceQuotaSet' ? { cpu: event.data.cpu, memory: event.data.memory } : undefined;
      const current = state.quotas.get(namespace) ?? { default: undefined, overrides: new Map() };
      const next: NamespaceQuota =
        clusterId === null
          ? { ...current, default: limits }
          : { ...current, overrides: limits ? withEntry(current.overrides, clusterId, limits) : without(current.overrides, clusterId) };
      const empty = next.default === undefined && next.overrides.size === 0;
      return { ...state, quotas: empty ? without(state.quotas, namespace) : withEntry(state.quotas, namespace, next) };
    }
    case 'RoleBindingAdded': {
      const { name, namespaces, role, subjects } = event.data;
      return { ...state, roleBindings: withEntry(state.roleBindings, name, { namespaces, role, subjects }) };
    }
    case 'RoleBindingRemoved':
      return { ...state, roleBindings: without(state.roleBindings, event.data.name) };
    case 'ClusterRoleBindingAdded':
      return { ...state, clusterRoleBindings: withEntry(state.clusterRoleBindings, event.data.name, { clusterRole: event.data.clusterRole, subjects: event.data.subjects }) };
    case 'ClusterRoleBindingRemoved':
      return { ...state, clusterRoleBindings: without(state.clusterRoleBindings, event.data.name) };
    case 'ImageRestricted':
    case 'ImageRestrictionLifted': {
      const images = new Set(state.restrictedImages.get(event.data.namespace));
      if (event.type === 'ImageRestricted') images.add(event.data.image);
      else images.delete(event.data.image);
      return { ...state, restrictedImages: images.size ? withEntry(state.restrictedImages, event.data.namespace, images) : without(state.restrictedImages, event.data.namespace) };
    }
    case 'SecretWritten': {
      const { name, version, values, writtenBy } = event.data;
      return { ...state, secrets: withEntry(state.secrets, name, { version, values, writtenBy, writtenAt: meta.occurredAt }) };
    }
    case 'SecretDeleted':
      return { ...state, secrets: without(state.secrets, event.data.name) };
  }
}
