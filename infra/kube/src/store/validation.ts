import { asArray, deepEqual, getPath, isObject, stringMap, type JsonObject } from '../json.js';
import { fromLabelSelector, matchesSelector } from '../labels.js';
import { labelValueProblem, nameProblem, qualifiedNameProblem, type NameRule } from '../names.js';
import { isQuantity } from '../quantity.js';
import type { ResourceType } from '../resources.js';
import type { FieldCause } from '../status.js';

/** Which naming rule a kind's object names follow on the real server. */
export function nameRuleOf(type: ResourceType): NameRule {
  if (type.kind === 'Namespace') return 'label';
  if (type.group === 'rbac.authorization.k8s.io') return 'path-segment';
  return 'subdomain';
}

function invalidValue(field: string, value: unknown, why: string): FieldCause {
  return { field, message: `Invalid value: ${JSON.stringify(value)}: ${why}`, reason: 'FieldValueInvalid' };
}

function required(field: string): FieldCause {
  return { field, message: 'Required value', reason: 'FieldValueRequired' };
}

/** Field errors of an object about to be stored (create or update): the subset of the server's validation the simulator checks. */
export function validateObject(type: ResourceType, obj: JsonObject, old: JsonObject | undefined): FieldCause[] {
  const causes: FieldCause[] = [];
  const metadata = obj['metadata'] as JsonObject;
  const name = String(metadata['name'] ?? '');
  const nameIssue = nameProblem(name, nameRuleOf(type));
  if (nameIssue) causes.push(invalidValue('metadata.name', name, nameIssue));
  for (const [key, value] of Object.entries(stringMap(metadata['labels']))) {
    const keyIssue = qualifiedNameProblem(key);
    if (keyIssue) causes.push(invalidValue('metadata.labels', key, keyIssue));
    const valueIssue = labelValueProblem(value);
    if (valueIssue) causes.push(invalidValue(`metadata.labels`, value, valueIssue));
  }
  for (const key of Object.keys(stringMap(metadata['annotations']))) {
    const keyIssue = qualifiedNameProblem(key);
    if (keyIssue) causes.push(invalidValue('metadata.annotations', key, keyIssue));
  }
  const spec = isObject(obj['spec']) ? obj['spec'] : {};
  switch (type.kind) {
    case 'Pod':
      causes.push(...validatePodSpec(spec, 'spec'));
      break;
    case 'Deployment':
    case 'ReplicaSet':
    case 'StatefulSet':
    case 'DaemonSet':
      causes.push(...validateWorkload(spec, old));
      break;
    case 'Job':
      causes.push(...validateJobSpec(spec, 'spec'));
      break;
    case 'CronJob': {
      if (typeof spec['schedule'] !== 'string' || !spec['schedule'].trim()) causes.push(required('spec.schedule'));
      const jobSpec = getPath(spec, 'jobTemplate.spec');
      if (!isObject(jobSpec)) causes.push(required('spec.jobTemplate.spec'));
      else causes.push(...validateJobSpec(jobSpec, 'spec.jobTemplate.spec'));
      break;
    }
    case 'ResourceQuota':
      for (const [resource, value] of Object.entries(isObject(spec['hard']) ? spec['hard'] : {})) {
        if (!isQuantity(value)) causes.push(invalidValue(`spec.hard[${resource}]`, value, 'must be a quantity'));
      }
      break;
    case 'ConfigMap':
    case 'Secret':
      for (const field of ['data', 'binaryData']) {
        for (const key of Object.keys(isObject(obj[field]) ? (obj[field] as JsonObject) : {})) {
          if (!/^[-._a-zA-Z0-9]+$/.test(key)) causes.push(invalidValue(`${field}[${key}]`, key, "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"));
        }
      }
      break;
    case 'RoleBinding':
    case 'ClusterRoleBinding': {
      const roleRef = isObject(obj['roleRef']) ? obj['roleRef'] : undefined;
      if (!roleRef || typeof roleRef['name'] !== 'string' || !roleRef['name']) causes.push(required('roleRef.name'));
      if (!roleRef || (roleRef['kind'] !== 'Role' && roleRef['kind'] !== 'ClusterRole')) {
        causes.push({ field: 'roleRef.kind', message: `Unsupported value: ${JSON.stringify(roleRef?.['kind'] ?? '')}: supported values: "Role", "ClusterRole"`, reason: 'FieldValueNotSupported' });
      }
      if (old && !deepEqual(old['roleRef'], obj['roleRef'])) causes.push(invalidValue('roleRef', obj['roleRef'], 'cannot change roleRef'));
      break;
    }
  }
  return causes;
}

function validatePodSpec(spec: JsonObject, at: string): FieldCause[] {
  const causes: FieldCause[] = [];
  const containers = asArray(spec['containers']);
  if (containers.length === 0) causes.push(required(`${at}.containers`));
  containers.forEach((container, i) => {
    if (!isObject(container)) return;
    const name = container['name'];
    if (typeof name !== 'string' || !name) causes.push(required(`${at}.containers[${i}].name`));
    else {
      const issue = nameProblem(name, 'label');
      if (issue) causes.push(invalidValue(`${at}.containers[${i}].name`, name, issue));
    }
    if (typeof container['image'] !== 'string' || !container['image']) causes.push(required(`${at}.containers[${i}].image`));
  });
  return causes;
}

function validateWorkload(spec: JsonObject, old: JsonObject | undefined): FieldCause[] {
  const causes: FieldCause[] = [];
  const replicas = spec['replicas'];
  if (replicas !== undefined && (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0)) {
    causes.push(invalidValue('spec.replicas', replicas, 'must be greater than or equal to 0'));
  }
  const selector = spec['selector'];
  const hasSelector = isObject(selector) && (Object.keys(stringMap(selector['matchLabels'])).length > 0 || asArray(selector['matchExpressions']).length > 0);
  if (!hasSelector) causes.push(required('spec.selector'));
  const template = isObject(spec['template']) ? spec['template'] : undefined;
  if (!template) {
    causes.push(required('spec.template'));
    return causes;
  }
  const labels = stringMap(getPath(template, 'metadata.labels'));
  if (hasSelector && !matchesSelector(fromLabelSelector(selector), labels)) {
    causes.push(invalidValue('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
  }
  causes.push(...validatePodSpec(isObject(template['spec']) ? template['spec'] : {}, 'spec.template.spec'));
  if (old && !deepEqual(getPath(old, 'spec.selector'), selector)) {
    causes.push(invalidValue('spec.selector', selector, 'field is immutable'));
  }
  return causes;
}

function validateJobSpec(spec: JsonObject, at: string): FieldCause[] {
  const template = isObject(spec['template']) ? spec['template'] : undefined;
  if (!template) return [required(`${at}.template`)];
  const podSpec = isObject(template['spec']) ? template['spec'] : {};
  const causes = validatePodSpec(podSpec, `${at}.template.spec`);
  const restartPolicy = podSpec['restartPolicy'];
  if (restartPolicy !== 'Never' && restartPolicy !== 'OnFailure') {
    causes.push({
      field: `${at}.template.spec.restartPolicy`,
      message: `Unsupported value: ${JSON.stringify(restartPolicy ?? '')}: supported values: "OnFailure", "Never"`,
      reason: 'FieldValueNotSupported',
    });
  }
  return causes;
}
