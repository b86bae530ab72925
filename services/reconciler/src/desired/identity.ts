import { createHash } from 'node:crypto';

/** Kubernetes' own label for the tool that manages an object; Canopy's objects say `canopy`. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'canopy';
/** Which workspace applied the object (its id, or a digest of it when the id is no valid label value). */
export const WORKSPACE_LABEL = 'canopy.dev/workspace';
/** The version of the workspace secret a Secret holds. */
export const SECRET_VERSION_ANNOTATION = 'canopy.dev/secret-version';

const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * How Canopy names and marks what one workspace applies. Each workspace
 * applies with a field manager of its own, so two workspaces on one
 * cluster never take each other's fields: a namespace claimed by both is a
 * conflict reported on the second, not a label flipping at every resync.
 */
export interface WorkspaceIdentity {
  workspaceId: string;
  /** Value of `canopy.dev/workspace`. */
  label: string;
  /** 10 hex digits of the id's SHA-256: the part of generated names that keeps workspaces apart. */
  key: string;
  fieldManager: string;
  /** Selects every object this workspace applied. */
  selector: string;
  labels: Readonly<Record<string, string>>;
}

export function workspaceIdentity(workspaceId: string): WorkspaceIdentity {
  const label = LABEL_VALUE.test(workspaceId) ? workspaceId : `sha256-${digest(workspaceId).slice(0, 40)}`;
  const key = digest(workspaceId).slice(0, 10);
  return {
    workspaceId,
    label,
    key,
    fieldManager: `canopy-${key}`,
    selector: `${MANAGED_BY_LABEL}=${MANAGED_BY},${WORKSPACE_LABEL}=${label}`,
    labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [WORKSPACE_LABEL]: label },
  };
}

/** Names of the objects Canopy generates (Secrets keep the workspace secret's name: pods refer to them by it). */
export const objectNames = {
  quota: (id: WorkspaceIdentity) => `canopy-${id.key}`,
  roleBinding: (id: WorkspaceIdentity, name: string) => `canopy-${id.key}-${name}`,
  clusterRoleBinding: (id: WorkspaceIdentity, name: string) => `canopy-${id.key}-${name}`,
  imagePolicy: (id: WorkspaceIdentity) => `canopy-${id.key}-restricted-images`,
};
