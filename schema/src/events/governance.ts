import { z } from 'zod';
import { defineEvent } from '../event-contract.js';
import { CpuLimit, Id, KubernetesName, KubernetesSubdomain, MemoryLimit, UserId } from './primitives.js';

/**
 * What a workspace governs, on the workspace stream (`workspace-{id}`):
 * clusters, namespaces, quotas, access, image restrictions and secrets. The
 * reconciler applies the folded state to every cluster of the workspace.
 */

/** How Canopy reaches a cluster: a kubeconfig (file and optional context) or the built-in simulator. */
export const ClusterConnection = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('kubeconfig'), path: z.string().min(1).max(1024), context: z.string().min(1).max(253).nullable() }),
  z.object({ kind: z.literal('simulator'), simulator: KubernetesName }),
]);
export type ClusterConnection = z.infer<typeof ClusterConnection>;

export const ClusterAttached = defineEvent({
  type: 'ClusterAttached',
  payload: z.object({ workspaceId: Id, clusterId: Id, name: KubernetesName, connection: ClusterConnection }),
});

/** Detaching removes what the workspace applied there; the cluster, its namespaces and workloads stay. */
export const ClusterDetached = defineEvent({
  type: 'ClusterDetached',
  payload: z.object({ workspaceId: Id, clusterId: Id, name: KubernetesName }),
});

export const NamespaceAdded = defineEvent({
  type: 'NamespaceAdded',
  payload: z.object({ workspaceId: Id, namespace: KubernetesName }),
});

/** Also ends the namespace's quotas and image restrictions; the namespace itself stays on the clusters. */
export const NamespaceRemoved = defineEvent({
  type: 'NamespaceRemoved',
  payload: z.object({ workspaceId: Id, namespace: KubernetesName }),
});

/** The workspace-wide budget that the sum of its quotas (namespaces × clusters) may not exceed. */
export const WorkspaceBudgetSet = defineEvent({
  type: 'WorkspaceBudgetSet',
  payload: z.object({ workspaceId: Id, cpu: CpuLimit, memory: MemoryLimit }),
});

/** A namespace's quota on every cluster (`clusterId` null) or its override on one cluster. */
export const NamespaceQuotaSet = defineEvent({
  type: 'NamespaceQuotaSet',
  payload: z.object({ workspaceId: Id, namespace: KubernetesName, clusterId: Id.nullable(), cpu: CpuLimit, memory: MemoryLimit }),
});

export const NamespaceQuotaRemoved = defineEvent({
  type: 'NamespaceQuotaRemoved',
  payload: z.object({ workspaceId: Id, namespace: KubernetesName, clusterId: Id.nullable() }),
});

export const Subject = z.object({
  kind: z.enum(['User', 'Group', 'ServiceAccount']),
  name: z.string().min(1).max(253),
  /** Required for service accounts, absent otherwise. */
  namespace: KubernetesName.nullable(),
});
export type Subject = z.infer<typeof Subject>;

/**
 * A namespace selector of a role binding: a namespace of the workspace by
 * name, `/regex/` to include the namespaces it matches, `~/regex/` to
 * exclude them.
 */
export const NamespaceSelector = z.string().min(1).max(256);

/** An RBAC role name: Kubernetes allows any path segment name here (e.g. `system:aggregate-to-view`). */
export const RbacRoleName = z
  .string()
  .min(1)
  .max(253, 'must be at most 253 characters')
  .regex(/^(?!\.\.?$)[^/%\s]+$/, "must be a role name: no '/', '%' or spaces, and not '.' or '..'");

export const RoleBindingAdded = defineEvent({
  type: 'RoleBindingAdded',
  payload: z.object({
    workspaceId: Id,
    name: KubernetesName,
    namespaces: z.array(NamespaceSelector).min(1).max(50),
    role: z.object({ kind: z.enum(['Role', 'ClusterRole']), name: RbacRoleName }),
    subjects: z.array(Subject).min(1).max(100),
  }),
});

export const RoleBindingRemoved = defineEvent({
  type: 'RoleBindingRemoved',
  payload: z.object({ workspaceId: Id, name: KubernetesName }),
});

export const ClusterRoleBindingAdded = defineEvent({
  type: 'ClusterRoleBindingAdded',
  payload: z.object({ workspaceId: Id, name: KubernetesName, clusterRole: RbacRoleName, subjects: z.array(Subject).min(1).max(100) }),
});

export const ClusterRoleBindingRemoved = defineEvent({
  type: 'ClusterRoleBindingRemoved',
  payload: z.object({ workspaceId: Id, name: KubernetesName }),
});

/** An image reference, optionally ending in `*` to match a prefix (e.g. `docker.io/library/nginx:*`). */
export const ImagePattern = z
  .string()
  .min(1)
  .max(255, 'must be at most 255 characters')
  .regex(/^[a-z0-9][a-z0-9._\-/:@]*\*?$/, "must be an image reference (registry/repository[:tag|@digest]), optionally ending in '*'");

export const ImageRestricted = defineEvent({
  type: 'ImageRestricted',
  payload: z.object({ workspaceId: Id, namespace: KubernetesName, image: ImagePattern }),
});

export const ImageRestrictionLifted = defineEvent({
  type: 'ImageRestrictionLifted',
  payload: z.object({ workspaceId: Id, namespace: KubernetesName, image: ImagePattern }),
});

/** A value sealed with the workspace's data key (AES-256-GCM); the plain value never reaches the log. */
export const SealedValue = z.object({
  alg: z.literal('A256GCM'),
  iv: z.string().min(1).max(64),
  ciphertext: z.string().max(1_000_000),
  tag: z.string().min(1).max(64),
});

export const SecretKeyName = z
  .string()
  .min(1)
  .max(253, 'must be at most 253 characters')
  .regex(/^(?!\.\.?$)(?!\.\.)[-._a-zA-Z0-9]+$/, "must consist of letters, digits, '-', '_' or '.', and not start with '..'");

export const SecretWritten = defineEvent({
  type: 'SecretWritten',
  payload: z.object({
    workspaceId: Id,
    name: KubernetesSubdomain,
    /** 1 for a new secret, +1 on every write. */
    version: z.number().int().positive(),
    values: z.record(SecretKeyName, SealedValue),
    writtenBy: UserId,
  }),
});

export const SecretDeleted = defineEvent({
  type: 'SecretDeleted',
  payload: z.object({ workspaceId: Id, name: KubernetesSubdomain }),
});

export const governanceEvents = [
  ClusterAttached,
  ClusterDetached,
  NamespaceAdded,
  NamespaceRemoved,
  WorkspaceBudgetSet,
  NamespaceQuotaSet,
  NamespaceQuotaRemoved,
  RoleBindingAdded,
  RoleBindingRemoved,
  ClusterRoleBindingAdded,
  ClusterRoleBindingRemoved,
  ImageRestricted,
  ImageRestrictionLifted,
  SecretWritten,
  SecretDeleted,
] as const;
