import { asArray, ensureObject, isObject, type JsonObject } from '../json.js';
import { parseQuantity } from '../quantity.js';

/**
 * The defaults the API server fills in on write, for the fields the
 * simulator's controllers and kubectl's output rely on (not every default
 * of every kind).
 */
export function applyDefaults(kind: string, obj: JsonObject): void {
  const spec = isObject(obj['spec']) ? obj['spec'] : undefined;
  const metadata = obj['metadata'] as JsonObject;
  switch (kind) {
    case 'Namespace': {
      const labels = ensureObject(metadata, ['labels']);
      labels['kubernetes.io/metadata.name'] = String(metadata['name']);
      const nsSpec = ensureObject(obj, ['spec']);
      if (!Array.isArray(nsSpec['finalizers'])) nsSpec['finalizers'] = ['kubernetes'];
      break;
    }
    case 'Pod':
      if (spec) podSpecDefaults(spec);
      break;
    case 'Deployment':
      if (spec) {
        spec['replicas'] ??= 1;
        spec['revisionHistoryLimit'] ??= 10;
        spec['progressDeadlineSeconds'] ??= 600;
        spec['strategy'] ??= { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } };
        templateDefaults(spec);
      }
      break;
    case 'ReplicaSet':
      if (spec) {
        spec['replicas'] ??= 1;
        templateDefaults(spec);
      }
      break;
    case 'StatefulSet':
      if (spec) {
        spec['replicas'] ??= 1;
        spec['podManagementPolicy'] ??= 'OrderedReady';
        spec['revisionHistoryLimit'] ??= 10;
        spec['updateStrategy'] ??= { type: 'RollingUpdate', rollingUpdate: { partition: 0 } };
        templateDefaults(spec);
      }
      break;
    case 'DaemonSet':
      if (spec) {
        spec['revisionHistoryLimit'] ??= 10;
        spec['updateStrategy'] ??= { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } };
        templateDefaults(spec);
      }
      break;
    case 'Job':
      if (spec) jobSpecDefaults(spec);
      break;
    case 'CronJob':
      if (spec) {
        spec['concurrencyPolicy'] ??= 'Allow';
        spec['suspend'] ??= false;
        spec['successfulJobsHistoryLimit'] ??= 3;
        spec['failedJobsHistoryLimit'] ??= 1;
        const jobSpec = isObject(spec['jobTemplate']) && isObject(spec['jobTemplate']['spec']) ? spec['jobTemplate']['spec'] : undefined;
        if (jobSpec) {
          jobSpec['backoffLimit'] ??= 6;
          templateDefaults(jobSpec);
        }
      }
      break;
    case 'Secret':
      obj['type'] ??= 'Opaque';
      if (isObject(obj['stringData'])) {
        const data = ensureObject(obj, ['data']);
        for (const [key, value] of Object.entries(obj['stringData'])) data[key] = Buffer.from(String(value ?? '')).toString('base64');
        delete obj['stringData'];
      }
      break;
  }
}

/** Job defaults, and the selector and labels the server generates for Jobs (its uid must be set already). */
function jobSpecDefaults(spec: JsonObject): void {
  spec['parallelism'] ??= 1;
  spec['completions'] ??= 1;
  spec['backoffLimit'] ??= 6;
  spec['completionMode'] ??= 'NonIndexed';
  spec['suspend'] ??= false;
  spec['podReplacementPolicy'] ??= 'TerminatingOrFailed';
  templateDefaults(spec);
}

/** Labels and selector of a new Job, from its uid and name (`manualSelector` not set). */
export function jobSelectorDefaults(obj: JsonObject): void {
  const spec = isObject(obj['spec']) ? obj['spec'] : undefined;
  if (!spec || spec['manualSelector'] === true || spec['selector']) return;
  const metadata = obj['metadata'] as JsonObject;
  const uid = String(metadata['uid']);
  const name = String(metadata['name']);
  spec['selector'] = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
  const labels = ensureObject(spec, ['template', 'metadata', 'labels']);
  labels['batch.kubernetes.io/controller-uid'] = uid;
  labels['batch.kubernetes.io/job-name'] = name;
  labels['controller-uid'] = uid;
  labels['job-name'] = name;
}

function templateDefaults(spec: JsonObject): void {
  const template = isObject(spec['template']) ? spec['template'] : undefined;
  if (template && isObject(template['spec'])) podSpecDefaults(template['spec']);
}

export function podSpecDefaults(spec: JsonObject): void {
  spec['restartPolicy'] ??= 'Always';
  spec['terminationGracePeriodSeconds'] ??= 30;
  spec['dnsPolicy'] ??= 'ClusterFirst';
  spec['schedulerName'] ??= 'default-scheduler';
  spec['securityContext'] ??= {};
  for (const list of ['containers', 'initContainers']) {
    for (const container of asArray(spec[list])) {
      if (!isObject(container)) continue;
      const image = typeof container['image'] === 'string' ? container['image'] : '';
      const tag = image.includes('@') ? 'digest' : (/:([^/:]+)$/.exec(image)?.[1] ?? 'latest');
      container['imagePullPolicy'] ??= tag === 'latest' ? 'Always' : 'IfNotPresent';
      container['terminationMessagePath'] ??= '/dev/termination-log';
      container['terminationMessagePolicy'] ??= 'File';
      container['resources'] ??= {};
      for (const port of asArray(container['ports'])) if (isObject(port)) port['protocol'] ??= 'TCP';
    }
  }
}

/** QoS class of a pod, from its containers' requests and limits. */
export function qosClass(spec: JsonObject): string {
  const containers = asArray(spec['containers']).filter(isObject);
  let anySet = false;
  let guaranteed = containers.length > 0;
  for (const container of containers) {
    const resources = isObject(container['resources']) ? container['resources'] : {};
    const requests = isObject(resources['requests']) ? resources['requests'] : {};
    const limits = isObject(resources['limits']) ? resources['limits'] : {};
    if (Object.keys(requests).length > 0 || Object.keys(limits).length > 0) anySet = true;
    for (const name of ['cpu', 'memory']) {
      const limit = parseQuantity(limits[name]);
      const request = parseQuantity(requests[name]) ?? limit;
      if (limit === undefined || request !== limit) guaranteed = false;
    }
  }
  if (!anySet) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
