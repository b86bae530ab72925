import { z } from 'zod';
import { ClusterResourcesMode, CanopyError, ErrorCode, Id, KubernetesName, type BackupOptions, type ClusterSkipReason } from '@canopy/schema';
import { parseField, parseSelectors, selectNamespaces } from '@canopy/workspaces';
import { visibleLocation, type BackupLocation, type LocationsState } from './locations.js';
import { MAX_PREFIX_LENGTH, storagePrefix } from './naming.js';

/** What the backup domain needs to know of a workspace (the workspaces domain's state has it). */
export interface WorkspaceFacts {
  workspaceId: string;
  organizationId: string;
  clusters: ReadonlyMap<string, { name: string }>;
  namespaces: ReadonlySet<string>;
}

/**
 * A cluster's health as the clusters service reports it when a backup or a
 * restore is planned. Unhealthy and unreachable clusters are skipped.
 */
export type ClusterHealth = { status: 'healthy' } | { status: 'unhealthy' | 'unreachable'; message: string };

/** The options of a backup as users send them (unchecked), on-demand or for a schedule. */
export interface BackupOptionsInput {
  prefix: string;
  locationId: string;
  includeAllDisks: boolean;
  /** `yes`, `no` or `auto`. */
  includeClusterResources: string;
  namespaces: readonly string[];
  /** Absent or null: every cluster the workspace has when the backup runs. */
  clusters?: readonly string[] | null;
}

const Prefix = KubernetesName.refine((prefix) => prefix.length <= MAX_PREFIX_LENGTH, `must be at most ${MAX_PREFIX_LENGTH} characters (the backup's name adds its time and a tag)`);
const NamespaceList = z.array(z.string().max(256, 'must be at most 256 characters')).min(1, 'must name at least one namespace').max(50, 'must have at most 50 entries');
const ClusterList = z.array(Id).min(1, 'must name at least one cluster, or be null for every cluster of the workspace').max(100, 'must have at most 100 entries');

/**
 * Checks the options against the workspace: the location must be one the
 * workspace may use, named namespaces and clusters must be the workspace's
 * (patterns are matched against its namespaces when the backup runs).
 */
export function parseBackupOptions(input: BackupOptionsInput, workspace: WorkspaceFacts, locations: LocationsState): BackupOptions {
  const prefix = parseField('prefix', Prefix, input.prefix);
  const includeAllDisks = parseField('includeAllDisks', z.boolean(), input.includeAllDisks);
  const includeClusterResources = parseField('includeClusterResources', ClusterResourcesMode, input.includeClusterResources);
  const namespaces = parseField('namespaces', NamespaceList, input.namespaces);
  assertNoRepeats('namespaces', namespaces);
  parseSelectors(namespaces, 'namespaces').forEach((selector, index) => {
    if (selector.kind === 'name' && !workspace.namespaces.has(selector.name)) {
      throw notFound(`namespaces.${index}`, `Namespace ${selector.name} is not part of this workspace; add it first or use a /pattern/.`);
    }
  });
  let clusters: string[] | null = null;
  if (input.clusters !== undefined && input.clusters !== null) {
    clusters = parseField('clusters', ClusterList, input.clusters);
    assertNoRepeats('clusters', clusters);
    clusters.forEach((clusterId, index) => {
      if (!workspace.clusters.has(clusterId)) throw notFound(`clusters.${index}`, `The workspace has no cluster ${clusterId}.`);
    });
  }
  const location = requireLocation(locations, workspace.workspaceId, input.locationId);
  return { prefix, locationId: location.locationId, includeAllDisks, includeClusterResources, namespaces, clusters };
}

/** UNKNOWN LOCATION: one that does not exist, or that belongs to another workspace. */
export function requireLocation(locations: LocationsState, workspaceId: string, locationId: string): BackupLocation {
  const location = visibleLocation(locations, workspaceId, locationId);
  if (!location) throw notFound('locationId', `Backup location ${locationId} does not exist or is not available to this workspace.`);
  return location;
}

export interface PlannedCluster {
  clusterId: string;
  clusterName: string;
  storagePrefix: string;
}

export interface SkippedCluster {
  clusterId: string;
  clusterName: string | null;
  reason: ClusterSkipReason;
  message: string;
}

export interface BackupPlan {
  namespaces: string[];
  planned: PlannedCluster[];
  skipped: SkippedCluster[];
}

/**
 * Which clusters a workspace backup covers now: the chosen clusters (or all
 * of the workspace's), minus those that left the workspace, are unhealthy or
 * cannot be reached, each recorded with the reason. Patterns select among
 * the workspace's namespaces as they are now.
 */
export function planBackup(options: BackupOptions, location: BackupLocation, workspace: WorkspaceFacts, health: ReadonlyMap<string, ClusterHealth>): BackupPlan {
  const namespaces = selectNamespaces(parseSelectors(options.namespaces, 'namespaces'), [...workspace.namespaces].sort());
  const clusterIds = options.clusters ?? [...workspace.clusters.keys()];
  const planned: PlannedCluster[] = [];
  const skipped: SkippedCluster[] = [];
  for (const clusterId of clusterIds) {
    const cluster = workspace.clusters.get(clusterId);
    if (!cluster) {
      skipped.push({ clusterId, clusterName: null, reason: 'Detached', message: 'The cluster is no longer part of the workspace.' });
      continue;
    }
    const state = health.get(clusterId) ?? { status: 'unreachable', message: 'No health report for the cluster.' };
    if (state.status !== 'healthy') {
      skipped.push({ clusterId, clusterName: cluster.name, reason: state.status === 'unhealthy' ? 'Unhealthy' : 'Unreachable', message: state.message });
    } else if (namespaces.length === 0) {
      skipped.push({ clusterId, clusterName: cluster.name, reason: 'NoNamespaces', message: "The namespaces chosen match none of the workspace's namespaces." });
    } else {
      planned.push({ clusterId, clusterName: cluster.name, storagePrefix: storagePrefix(location.prefix, workspace.workspaceId, clusterId) });
    }
  }
  const byName = (a: { clusterName: string | null; clusterId: string }, b: { clusterName: string | null; clusterId: string }) =>
    (a.clusterName ?? a.clusterId) < (b.clusterName ?? b.clusterId) ? -1 : 1;
  return { namespaces, planned: planned.sort(byName), skipped: skipped.sort(byName) };
}

function assertNoRepeats(field: string, values: readonly string[]): void {
  const seen = new Set<string>();
  values.forEach((value, index) => {
    if (seen.has(value)) throw new CanopyError(ErrorCode.BAD_USER_INPUT, `${field}[${index}] repeats ${value}.`, { field: `${field}.${index}` });
    seen.add(value);
  });
}

export function notFound(field: string, message: string): CanopyError {
  return new CanopyError(ErrorCode.NOT_FOUND, message, { field });
}
