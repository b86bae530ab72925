import type { WorkspaceIdentity } from './identity.js';
import { objectNames } from './identity.js';
import type { KubeObject } from './types.js';

/** Every image of a pod: its containers, init containers and ephemeral containers. */
const POD_IMAGES =
  'object.spec.containers.map(c, c.image)' +
  ' + (has(object.spec.initContainers) ? object.spec.initContainers.map(c, c.image) : [])' +
  ' + (has(object.spec.ephemeralContainers) ? object.spec.ephemeralContainers.map(c, c.image) : [])';

/** A CEL test of one image against a pattern: a trailing `*` matches a prefix, anything else the whole reference. */
function imageTest(pattern: string): string {
  return pattern.endsWith('*') ? `i.startsWith(${JSON.stringify(pattern.slice(0, -1))})` : `i == ${JSON.stringify(pattern)}`;
}

/**
 * The workspace's image restrictions as one ValidatingAdmissionPolicy (a
 * validation per namespace: pods there may not run a restricted image) and
 * its binding, which selects exactly those namespaces by their
 * `kubernetes.io/metadata.name` label. Pods are checked on create and
 * update; a Deployment whose template names a restricted image gets its pods
 * refused (a FailedCreate event on its ReplicaSet).
 */
export function imagePolicyObjects(id: WorkspaceIdentity, restricted: ReadonlyMap<string, ReadonlySet<string>>, inWorkspace: ReadonlySet<string>): KubeObject[] {
  const namespaces = [...restricted.keys()].filter((namespace) => inWorkspace.has(namespace) && restricted.get(namespace)!.size > 0).sort();
  if (namespaces.length === 0) return [];
  const name = objectNames.imagePolicy(id);
  const validations = namespaces.map((namespace) => {
    const patterns = [...restricted.get(namespace)!].sort();
    return {
      expression: `request.namespace != ${JSON.stringify(namespace)} || !variables.images.exists(i, ${patterns.map(imageTest).join(' || ')})`,
      message: `Images ${patterns.join(', ')} are restricted in namespace ${namespace} by its Canopy workspace.`,
      reason: 'Forbidden',
    };
  });
  return [
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name, labels: { ...id.labels } },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['pods'] }] },
        variables: [{ name: 'images', expression: POD_IMAGES }],
        validations,
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name, labels: { ...id.labels } },
      spec: {
        policyName: name,
        validationActions: ['Deny'],
        matchResources: { namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: namespaces }] } },
      },
    },
  ];
}
