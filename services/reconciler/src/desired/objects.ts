import type { Subject } from '@canopy/schema';
import { effectiveQuota, formatCpu, formatMemory, parseSelector, selectNamespaces, type NamespaceSelector, type WorkspaceState } from '@canopy/workspaces';
import { objectNames, SECRET_VERSION_ANNOTATION, type WorkspaceIdentity } from './identity.js';
import { imagePolicyObjects } from './images.js';
import type { KubeObject } from './types.js';

/** A workspace secret with its values opened (plain text: they exist only in memory, on their way to the cluster). */
export interface OpenedSecret {
  version: number;
  values: Readonly<Record<string, string>>;
}

export interface DesiredInput {
  identity: WorkspaceIdentity;
  clusterId: string;
  state: WorkspaceState;
  /** The namespaces the cluster has now: role-binding patterns match against these and the workspace's own. */
  clusterNamespaces: Iterable<string>;
  secrets: ReadonlyMap<string, OpenedSecret>;
}

const RBAC_GROUP = 'rbac.authorization.k8s.io';

function subjectObject(subject: Subject): Record<string, string> {
  return subject.kind === 'ServiceAccount'
    ? { kind: 'ServiceAccount', name: subject.name, namespace: subject.namespace ?? 'default' }
    : { kind: subject.kind, apiGroup: RBAC_GROUP, name: subject.name };
}

/**
 * The objects one workspace wants on one cluster. Pure: the same input gives
 * the same objects in the same order.
 *
 * - a Namespace per workspace namespace (only Canopy's labels: a namespace
 *   that exists already is kept as it is, labelled);
 * - a ResourceQuota per namespace with a quota on this cluster (the
 *   cluster's override, else the namespace's quota), `hard` holding
 *   `requests.cpu` / `requests.memory` — a resource that is "unlimited" is
 *   left out, and a namespace unlimited in both gets no ResourceQuota. The
 *   workspace budget has no object: the decider keeps the quotas within it;
 * - a RoleBinding per role binding and selected namespace (names, and
 *   patterns matched against the workspace's and the cluster's namespaces);
 * - a ClusterRoleBinding per cluster role binding;
 * - the image restrictions as a ValidatingAdmissionPolicy and its binding;
 * - every workspace secret as an Opaque Secret in every workspace namespace.
 */
export function desiredObjects(input: DesiredInput): KubeObject[] {
  const { identity: id, state, clusterId } = input;
  const labels = () => ({ ...id.labels });
  const namespaces = [...state.namespaces].sort();
  const objects: KubeObject[] = namespaces.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: labels() } }));

  for (const namespace of namespaces) {
    const limits = effectiveQuota(state.quotas.get(namespace), clusterId);
    if (!limits) continue;
    const hard: Record<string, string> = {};
    if (limits.cpu !== 'unlimited') hard['requests.cpu'] = formatCpu(limits.cpu);
    if (limits.memory !== 'unlimited') hard['requests.memory'] = formatMemory(limits.memory);
    if (Object.keys(hard).length === 0) continue;
    objects.push({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: objectNames.quota(id), namespace, labels: labels() }, spec: { hard } });
  }

  const secretNames = [...input.secrets.keys()].sort();
  for (const namespace of namespaces) {
    for (const name of secretNames) {
      const secret = input.secrets.get(name)!;
      const data = Object.fromEntries(
        Object.keys(secret.values)
          .sort()
          .map((key) => [key, Buffer.from(secret.values[key]!, 'utf8').toString('base64')]),
      );
      objects.push({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace, labels: labels(), annotations: { [SECRET_VERSION_ANNOTATION]: String(secret.version) } },
        type: 'Opaque',
        data,
      });
    }
  }

  const candidates = [...new Set([...namespaces, ...input.clusterNamespaces])].sort();
  for (const name of [...state.roleBindings.keys()].sort()) {
    const binding = state.roleBindings.get(name)!;
    const selectors = binding.namespaces.map(parseSelector).filter((s): s is NamespaceSelector => s !== undefined);
    for (const namespace of selectNamespaces(selectors, candidates)) {
      objects.push({
        apiVersion: `${RBAC_GROUP}/v1`,
        kind: 'RoleBinding',
        metadata: { name: objectNames.roleBinding(id, name), namespace, labels: labels() },
        roleRef: { apiGroup: RBAC_GROUP, kind: binding.role.kind, name: binding.role.name },
        subjects: binding.subjects.map(subjectObject),
      });
    }
  }

  for (const name of [...state.clusterRoleBindings.keys()].sort()) {
    const binding = state.clusterRoleBindings.get(name)!;
    objects.push({
      apiVersion: `${RBAC_GROUP}/v1`,
      kind: 'ClusterRoleBinding',
      metadata: { name: objectNames.clusterRoleBinding(id, name), labels: labels() },
      roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: binding.clusterRole },
      subjects: binding.subjects.map(subjectObject),
    });
  }

  objects.push(...imagePolicyObjects(id, state.restrictedImages, state.namespaces));
  return objects;
}
