/** A Kubernetes object as Canopy applies it: plain JSON, the fields Canopy sets and nothing else. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

/** The kinds Canopy applies, in the order they are applied (a namespace before what goes in it, a policy before its binding). */
export const MANAGED_KINDS = [
  { apiVersion: 'v1', kind: 'Namespace', namespaced: false },
  { apiVersion: 'v1', kind: 'ResourceQuota', namespaced: true },
  { apiVersion: 'v1', kind: 'Secret', namespaced: true },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', namespaced: true },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', namespaced: false },
  { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', namespaced: false },
  { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', namespaced: false },
] as const;

export type ManagedKind = (typeof MANAGED_KINDS)[number];

/** `apiVersion/kind/namespace/name`: one object's identity. */
export function objectKey(obj: { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string } }): string {
  return `${obj.apiVersion}/${obj.kind}/${obj.metadata?.namespace ?? ''}/${obj.metadata?.name}`;
}
