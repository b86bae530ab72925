/**
 * The resource types a simulated cluster serves, as a table: discovery,
 * routing, storage and tables all read it. Further API groups (e.g.
 * `velero.io/v1`, `metrics.k8s.io/v1beta1`) are added with
 * `ResourceRegistry.add` and their own simulated controllers.
 */
export type ResourceType = {
  group: string;
  version: string;
  kind: string;
  /** URL segment: `deployments`. */
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Has a `/status` subresource: main-resource writes keep the stored status, status writes keep everything else. */
  status?: boolean;
  /** Bumps metadata.generation whenever anything outside metadata and status changes. */
  generation?: boolean;
  /** Has a `/scale` subresource (autoscaling/v1 Scale over spec.replicas). */
  scale?: boolean;
  /** Verbs served; all of them unless given. */
  verbs?: string[];
};

export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function apiVersionOf(type: Pick<ResourceType, 'group' | 'version'>): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

export function groupOfApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** `deployments.apps`, `pods`: how a resource is named in keys and messages. */
export function resourceKey(type: Pick<ResourceType, 'group' | 'plural'>): string {
  return type.group ? `${type.plural}.${type.group}` : type.plural;
}

export class ResourceRegistry {
  private readonly types: ResourceType[] = [];

  constructor(types: readonly ResourceType[] = []) {
    for (const type of types) this.add(type);
  }

  add(type: ResourceType): void {
    if (this.byPath(type.group, type.version, type.plural)) {
      throw new Error(`resource ${resourceKey(type)}/${type.version} is already registered`);
    }
    this.types.push(type);
  }

  all(): readonly ResourceType[] {
    return this.types;
  }

  byPath(group: string, version: string, plural: string): ResourceType | undefined {
    return this.types.find((t) => t.group === group && t.version === version && t.plural === plural);
  }

  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    const { group, version } = groupOfApiVersion(apiVersion);
    return this.types.find((t) => t.group === group && t.version === version && t.kind === kind);
  }

  /** Known groups with their versions, in registration order (core group first). */
  groups(): { group: string; versions: string[] }[] {
    const out: { group: string; versions: string[] }[] = [];
    for (const t of this.types) {
      let entry = out.find((g) => g.group === t.group);
      if (!entry) out.push((entry = { group: t.group, versions: [] }));
      if (!entry.versions.includes(t.version)) entry.versions.push(t.version);
    }
    return out;
  }

  inGroupVersion(group: string, version: string): ResourceType[] {
    return this.types.filter((t) => t.group === group && t.version === version);
  }
}

const workload = ['all'];

/** The resources Canopy applies and watches. */
export const BUILTIN_RESOURCES: readonly ResourceType[] = [
  { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', singular: 'namespace', namespaced: false, shortNames: ['ns'], status: true },
  { group: '', version: 'v1', kind: 'Node', plural: 'nodes', singular: 'node', namespaced: false, shortNames: ['no'], status: true },
  { group: '', version: 'v1', kind: 'Pod', plural: 'pods', singular: 'pod', namespaced: true, shortNames: ['po'], categories: workload, status: true },
  { group: '', version: 'v1', kind: 'ResourceQuota', plural: 'resourcequotas', singular: 'resourcequota', namespaced: true, shortNames: ['quota'], status: true },
  { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', singular: 'secret', namespaced: true },
  { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', singular: 'configmap', namespaced: true, shortNames: ['cm'] },
  { group: '', version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', singular: 'serviceaccount', namespaced: true, shortNames: ['sa'] },
  { group: '', version: 'v1', kind: 'Event', plural: 'events', singular: 'event', namespaced: true, shortNames: ['ev'] },
  { group: 'apps', version: 'v1', kind: 'Deployment', scale: true, plural: 'deployments', singular: 'deployment', namespaced: true, shortNames: ['deploy'], categories: workload, status: true, generation: true },
  { group: 'apps', version: 'v1', kind: 'ReplicaSet', scale: true, plural: 'replicasets', singular: 'replicaset', namespaced: true, shortNames: ['rs'], categories: workload, status: true, generation: true },
  { group: 'apps', version: 'v1', kind: 'StatefulSet', scale: true, plural: 'statefulsets', singular: 'statefulset', namespaced: true, shortNames: ['sts'], categories: workload, status: true, generation: true },
  { group: 'apps', version: 'v1', kind: 'DaemonSet', plural: 'daemonsets', singular: 'daemonset', namespaced: true, shortNames: ['ds'], categories: workload, status: true, generation: true },
  { group: 'batch', version: 'v1', kind: 'Job', plural: 'jobs', singular: 'job', namespaced: true, categories: workload, status: true, generation: true },
  { group: 'batch', version: 'v1', kind: 'CronJob', plural: 'cronjobs', singular: 'cronjob', namespaced: true, shortNames: ['cj'], categories: workload, status: true, generation: true },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role', plural: 'roles', singular: 'role', namespaced: true },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding', plural: 'rolebindings', singular: 'rolebinding', namespaced: true },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole', plural: 'clusterroles', singular: 'clusterrole', namespaced: false },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRoleBinding', plural: 'clusterrolebindings', singular: 'clusterrolebinding', namespaced: false },
  { group: 'admissionregistration.k8s.io', version: 'v1', kind: 'ValidatingAdmissionPolicy', plural: 'validatingadmissionpolicies', singular: 'validatingadmissionpolicy', namespaced: false, categories: ['api-extensions'], status: true, generation: true },
  { group: 'admissionregistration.k8s.io', version: 'v1', kind: 'ValidatingAdmissionPolicyBinding', plural: 'validatingadmissionpolicybindings', singular: 'validatingadmissionpolicybinding', namespaced: false, categories: ['api-extensions'], generation: true },
];
