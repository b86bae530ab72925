import { asArray, asNumber, asObject, getPath, isObject, stringMap, type JsonObject, type JsonValue } from '../json.js';
import { fromLabelSelector, selectorToString } from '../labels.js';
import type { ResourceType } from '../resources.js';

/**
 * Server-side printing: `kubectl get` asks for `Table`s and prints their
 * columns. The columns of the common kinds follow the real server's
 * printers; other kinds get NAME and AGE.
 */
type Column = { name: string; type: 'string' | 'integer' | 'date'; priority?: number; format?: string; description: string };
type Printer = { columns: Column[]; cells(obj: JsonObject, now: number): JsonValue[] };

export type IncludeObject = 'None' | 'Metadata' | 'Object';

const NAME: Column = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.' };
const AGE: Column = { name: 'Age', type: 'string', description: 'Time since the object was created.' };

/** kubectl's human durations: 45s, 5m12s, 3h20m, 2d4h, 1y30d. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${hours / 24}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${days / 365}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  return `${Math.floor(days / 365)}y`;
}

function since(value: unknown, now: number): string {
  if (typeof value !== 'string' || !value) return '<unknown>';
  const time = Date.parse(value);
  return Number.isNaN(time) ? '<unknown>' : humanDuration(now - time);
}

function age(obj: JsonObject, now: number): string {
  return since(getPath(obj, 'metadata.creationTimestamp'), now);
}

function name(obj: JsonObject): string {
  return String(getPath(obj, 'metadata.name') ?? '');
}

function num(value: unknown): number {
  return asNumber(value) ?? 0;
}

function containersOf(podSpec: unknown): JsonObject[] {
  return asArray(asObject(podSpec)['containers']).filter(isObject);
}

function templateColumns(obj: JsonObject, templatePath: string, withSelector: boolean): JsonValue[] {
  const containers = containersOf(getPath(obj, `${templatePath}.spec`));
  const cells: JsonValue[] = [containers.map((c) => String(c['name'] ?? '')).join(','), containers.map((c) => String(c['image'] ?? '')).join(',')];
  if (withSelector) {
    const selector = getPath(obj, 'spec.selector');
    cells.push(selector ? selectorToString(fromLabelSelector(selector)) || '<none>' : '<none>');
  }
  return cells;
}

const wide = (name: string, description: string): Column => ({ name, type: 'string', priority: 1, description });
const CONTAINERS = wide('Containers', 'Names of each container in the template.');
const IMAGES = wide('Images', 'Images referenced by each container in the template.');
const SELECTOR = wide('Selector', 'Label selector for the objects.');

function podStatus(pod: JsonObject): { ready: string; status: string; restarts: number } {
  const spec = asObject(pod['spec']);
  const status = asObject(pod['status']);
  const containers = containersOf(spec);
  const statuses = asArray(status['containerStatuses']).filter(isObject);
  let reason = String(status['reason'] ?? status['phase'] ?? 'Unknown');
  let ready = 0;
  let restarts = 0;
  let running = false;
  for (const cs of statuses) {
    restarts += num(cs['restartCount']);
    const state = asObject(cs['state']);
    if (isObject(state['waiting']) && state['waiting']['reason']) reason = String(state['waiting']['reason']);
    else if (isObject(state['terminated'])) {
      const terminated = state['terminated'];
      reason = terminated['reason'] ? String(terminated['reason']) : `ExitCode:${num(terminated['exitCode'])}`;
    } else if (isObject(state['running'])) {
      running = true;
      if (cs['ready'] === true) ready++;
    }
  }
  if (running && reason === 'Running') {
    const readyCondition = asArray(status['conditions']).filter(isObject).find((c) => c['type'] === 'Ready');
    if (readyCondition?.['status'] !== 'True') reason = 'NotReady';
  }
  if (getPath(pod, 'metadata.deletionTimestamp')) reason = 'Terminating';
  return { ready: `${ready}/${containers.length}`, status: reason, restarts };
}

function jobStatus(job: JsonObject): string {
  const conditions = asArray(getPath(job, 'status.conditions')).filter(isObject);
  const has = (type: string) => conditions.some((c) => c['type'] === type && c['status'] === 'True');
  if (has('Complete')) return 'Complete';
  if (has('Failed')) return 'Failed';
  if (getPath(job, 'metadata.deletionTimestamp')) return 'Terminating';
  if (has('FailureTarget')) return 'FailureTarget';
  if (has('Suspended')) return 'Suspended';
  return 'Running';
}

function jobDuration(job: JsonObject, now: number): string {
  const start = getPath(job, 'status.startTime');
  if (typeof start !== 'string') return '';
  const end = getPath(job, 'status.completionTime');
  const endMs = typeof end === 'string' ? Date.parse(end) : now;
  return humanDuration(endMs - Date.parse(start));
}

function quotaList(obj: JsonObject, limits: boolean): string {
  const hard = asObject(getPath(obj, 'status.hard'));
  const used = asObject(getPath(obj, 'status.used'));
  return Object.keys(hard)
    .filter((key) => key.startsWith('limits.') === limits)
    .sort()
    .map((key) => `${key}: ${String(used[key] ?? '0')}/${String(hard[key])}`)
    .join(', ');
}

function subjects(binding: JsonObject, kind: string): string {
  return asArray(binding['subjects'])
    .filter(isObject)
    .filter((s) => s['kind'] === kind)
    .map((s) => (kind === 'ServiceAccount' ? `${String(s['namespace'] ?? '')}/${String(s['name'])}` : String(s['name'])))
    .join(', ');
}

function nodeStatus(node: JsonObject): string {
  const ready = asArray(getPath(node, 'status.conditions'))
    .filter(isObject)
    .find((c) => c['type'] === 'Ready');
  let status = ready?.['status'] === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown';
  if (getPath(node, 'spec.unschedulable') === true) status += ',SchedulingDisabled';
  return status;
}

function nodeAddress(node: JsonObject, type: string): string {
  const found = asArray(getPath(node, 'status.addresses'))
    .filter(isObject)
    .find((a) => a['type'] === type);
  return found ? String(found['address']) : '<none>';
}

const PRINTERS: Record<string, Printer> = {
  Pod: {
    columns: [
      NAME,
      { name: 'Ready', type: 'string', description: 'The aggregate readiness state of this pod for accepting traffic.' },
      { name: 'Status', type: 'string', description: 'The aggregate status of the containers in this pod.' },
      { name: 'Restarts', type: 'string', description: 'The number of times the containers in this pod have been restarted.' },
      AGE,
      wide('IP', 'IP address allocated to the pod.'),
      wide('Node', 'Name of the node the pod is assigned to.'),
      wide('Nominated Node', 'Name of the node nominated for the pod.'),
      wide('Readiness Gates', 'Readiness gates of the pod.'),
    ],
    cells(pod, now) {
      const { ready, status, restarts } = podStatus(pod);
      return [name(pod), ready, status, String(restarts), age(pod, now), String(getPath(pod, 'status.podIP') ?? '<none>'), String(getPath(pod, 'spec.nodeName') ?? '<none>'), '<none>', '<none>'];
    },
  },
  Deployment: {
    columns: [
      NAME,
      { name: 'Ready', type: 'string', description: 'Number of the pod with ready state.' },
      { name: 'Up-to-date', type: 'integer', description: 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.' },
      { name: 'Available', type: 'integer', description: 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.' },
      AGE,
      CONTAINERS,
      IMAGES,
      SELECTOR,
    ],
    cells: (d, now) => [name(d), `${num(getPath(d, 'status.readyReplicas'))}/${num(getPath(d, 'spec.replicas'))}`, num(getPath(d, 'status.updatedReplicas')), num(getPath(d, 'status.availableReplicas')), age(d, now), ...templateColumns(d, 'spec.template', true)],
  },
  ReplicaSet: {
    columns: [
      NAME,
      { name: 'Desired', type: 'integer', description: 'Number of desired pods.' },
      { name: 'Current', type: 'integer', description: 'Number of actual replicas.' },
      { name: 'Ready', type: 'integer', description: 'The number of ready replicas for this replica set.' },
      AGE,
      CONTAINERS,
      IMAGES,
      SELECTOR,
    ],
    cells: (rs, now) => [name(rs), num(getPath(rs, 'spec.replicas')), num(getPath(rs, 'status.replicas')), num(getPath(rs, 'status.readyReplicas')), age(rs, now), ...templateColumns(rs, 'spec.template', true)],
  },
  StatefulSet: {
    columns: [NAME, { name: 'Ready', type: 'string', description: 'Number of the pod with ready state.' }, AGE, CONTAINERS, IMAGES],
    cells: (s, now) => [name(s), `${num(getPath(s, 'status.readyReplicas'))}/${num(getPath(s, 'spec.replicas'))}`, age(s, now), ...templateColumns(s, 'spec.template', false)],
  },
  DaemonSet: {
    columns: [
      NAME,
      { name: 'Desired', type: 'integer', description: 'The total number of nodes that should be running the daemon pod.' },
      { name: 'Current', type: 'integer', description: 'The number of nodes that are running at least 1 daemon pod.' },
      { name: 'Ready', type: 'integer', description: 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.' },
      { name: 'Up-to-date', type: 'integer', description: 'The total number of nodes that are running updated daemon pod.' },
      { name: 'Available', type: 'integer', description: 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.' },
      { name: 'Node Selector', type: 'string', description: 'NodeSelector is a selector which must be true for the pod to fit on a node.' },
      AGE,
      CONTAINERS,
      IMAGES,
      SELECTOR,
    ],
    cells: (ds, now) => {
      const selector = Object.entries(stringMap(getPath(ds, 'spec.template.spec.nodeSelector')))
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      return [name(ds), num(getPath(ds, 'status.desiredNumberScheduled')), num(getPath(ds, 'status.currentNumberScheduled')), num(getPath(ds, 'status.numberReady')), num(getPath(ds, 'status.updatedNumberScheduled')), num(getPath(ds, 'status.numberAvailable')), selector || '<none>', age(ds, now), ...templateColumns(ds, 'spec.template', true)];
    },
  },
  Job: {
    columns: [
      NAME,
      { name: 'Status', type: 'string', description: 'Status of the job.' },
      { name: 'Completions', type: 'string', description: 'The completion status of the job.' },
      { name: 'Duration', type: 'string', description: 'Time required to complete the job.' },
      AGE,
      CONTAINERS,
      IMAGES,
      SELECTOR,
    ],
    cells: (job, now) => [name(job), jobStatus(job), `${num(getPath(job, 'status.succeeded'))}/${num(getPath(job, 'spec.completions'))}`, jobDuration(job, now), age(job, now), ...templateColumns(job, 'spec.template', true)],
  },
  CronJob: {
    columns: [
      NAME,
      { name: 'Schedule', type: 'string', description: 'The schedule in Cron format.' },
      { name: 'Timezone', type: 'string', description: 'The time zone of the schedule.' },
      { name: 'Suspend', type: 'string', description: 'Whether new jobs are suspended.' },
      { name: 'Active', type: 'integer', description: 'Number of currently running jobs.' },
      { name: 'Last Schedule', type: 'string', description: 'When the job was last scheduled.' },
      AGE,
      CONTAINERS,
      IMAGES,
      SELECTOR,
    ],
    cells: (cj, now) => {
      const last = getPath(cj, 'status.lastScheduleTime');
      return [name(cj), String(getPath(cj, 'spec.schedule') ?? ''), String(getPath(cj, 'spec.timeZone') ?? '<none>'), getPath(cj, 'spec.suspend') === true ? 'True' : 'False', asArray(getPath(cj, 'status.active')).length, last ? since(last, now) : '<none>', age(cj, now), ...templateColumns(cj, 'spec.jobTemplate.spec.template', false), '<none>'];
    },
  },
  Namespace: {
    columns: [NAME, { name: 'Status', type: 'string', description: 'The status of the namespace.' }, AGE],
    cells: (ns, now) => [name(ns), String(getPath(ns, 'status.phase') ?? ''), age(ns, now)],
  },
  Node: {
    columns: [
      NAME,
      { name: 'Status', type: 'string', description: 'The status of the node.' },
      { name: 'Roles', type: 'string', description: 'The roles of the node.' },
      AGE,
      { name: 'Version', type: 'string', description: 'Kubelet version reported by the node.' },
      wide('Internal-IP', 'Internal IP of the node.'),
      wide('External-IP', 'External IP of the node.'),
      wide('OS-Image', 'OS image reported by the node.'),
      wide('Kernel-Version', 'Kernel version reported by the node.'),
      wide('Container-Runtime', 'Container runtime version reported by the node.'),
    ],
    cells: (node, now) => {
      const roles = Object.keys(stringMap(getPath(node, 'metadata.labels')))
        .filter((k) => k.startsWith('node-role.kubernetes.io/'))
        .map((k) => k.slice('node-role.kubernetes.io/'.length))
        .join(',');
      const info = asObject(getPath(node, 'status.nodeInfo'));
      return [name(node), nodeStatus(node), roles || '<none>', age(node, now), String(info['kubeletVersion'] ?? ''), nodeAddress(node, 'InternalIP'), nodeAddress(node, 'ExternalIP'), String(info['osImage'] ?? ''), String(info['kernelVersion'] ?? ''), String(info['containerRuntimeVersion'] ?? '')];
    },
  },
  ConfigMap: {
    columns: [NAME, { name: 'Data', type: 'integer', description: 'Number of keys.' }, AGE],
    cells: (cm, now) => [name(cm), Object.keys(asObject(cm['data'])).length + Object.keys(asObject(cm['binaryData'])).length, age(cm, now)],
  },
  Secret: {
    columns: [NAME, { name: 'Type', type: 'string', description: 'The type of the secret.' }, { name: 'Data', type: 'integer', description: 'Number of keys.' }, AGE],
    cells: (s, now) => [name(s), String(s['type'] ?? ''), Object.keys(asObject(s['data'])).length, age(s, now)],
  },
  ServiceAccount: {
    columns: [NAME, { name: 'Secrets', type: 'integer', description: 'Number of secrets.' }, AGE],
    cells: (sa, now) => [name(sa), asArray(sa['secrets']).length, age(sa, now)],
  },
  ResourceQuota: {
    columns: [NAME, AGE, { name: 'Request', type: 'string', description: 'Requests (used/hard).' }, { name: 'Limit', type: 'string', description: 'Limits (used/hard).' }],
    cells: (q, now) => [name(q), age(q, now), quotaList(q, false), quotaList(q, true)],
  },
  Event: {
    columns: [
      { name: 'Last Seen', type: 'string', description: 'Time since the event was last seen.' },
      { name: 'Type', type: 'string', description: 'Normal or Warning.' },
      { name: 'Reason', type: 'string', description: 'Why the event happened.' },
      { name: 'Object', type: 'string', description: 'The object the event is about.' },
      { name: 'Message', type: 'string', description: 'What happened.' },
      wide('Subobject', 'The part of the object the event is about.'),
      wide('Source', 'The component that reported the event.'),
      wide('First Seen', 'Time since the event was first seen.'),
      { ...wide('Count', 'How many times the event happened.'), type: 'integer' },
      { ...NAME, priority: 1 },
    ],
    cells: (e, now) => {
      const involved = asObject(e['involvedObject']);
      const last = e['lastTimestamp'] ?? e['eventTime'] ?? getPath(e, 'metadata.creationTimestamp');
      return [
        since(last, now),
        String(e['type'] ?? ''),
        String(e['reason'] ?? ''),
        `${String(involved['kind'] ?? '').toLowerCase()}/${String(involved['name'] ?? '')}`,
        String(e['message'] ?? ''),
        String(involved['fieldPath'] ?? ''),
        String(getPath(e, 'source.component') ?? e['reportingComponent'] ?? ''),
        since(e['firstTimestamp'] ?? last, now),
        num(e['count']) || 1,
        name(e),
      ];
    },
  },
  Role: {
    columns: [NAME, { name: 'Created At', type: 'date', description: 'When the role was created.' }],
    cells: (r) => [name(r), String(getPath(r, 'metadata.creationTimestamp') ?? '')],
  },
  ClusterRole: {
    columns: [NAME, { name: 'Created At', type: 'date', description: 'When the role was created.' }],
    cells: (r) => [name(r), String(getPath(r, 'metadata.creationTimestamp') ?? '')],
  },
  RoleBinding: {
    columns: [NAME, { name: 'Role', type: 'string', description: 'The role bound.' }, AGE, wide('Users', 'Users bound.'), wide('Groups', 'Groups bound.'), wide('ServiceAccounts', 'Service accounts bound.')],
    cells: (b, now) => [name(b), `${String(getPath(b, 'roleRef.kind') ?? '')}/${String(getPath(b, 'roleRef.name') ?? '')}`, age(b, now), subjects(b, 'User'), subjects(b, 'Group'), subjects(b, 'ServiceAccount')],
  },
};
PRINTERS['ClusterRoleBinding'] = PRINTERS['RoleBinding']!;

const DEFAULT_PRINTER: Printer = { columns: [NAME, { ...AGE, description: 'CreationTimestamp is a timestamp representing the server time when this object was created.' }], cells: (obj, now) => [name(obj), age(obj, now)] };

function printerFor(type: ResourceType): Printer {
  return PRINTERS[type.kind] ?? DEFAULT_PRINTER;
}

export function partialMetadata(obj: JsonObject, apiVersion = 'meta.k8s.io/v1'): JsonObject {
  return { kind: 'PartialObjectMetadata', apiVersion, metadata: asObject(obj['metadata']) };
}

/** A `meta.k8s.io` Table of `objects`, with each row's object included as asked. */
export function toTable(type: ResourceType, objects: JsonObject[], options: { now: number; includeObject: IncludeObject; apiVersion: string; resourceVersion?: string; continueToken?: string }): JsonObject {
  const printer = printerFor(type);
  const metadata: JsonObject = {};
  if (options.resourceVersion) metadata['resourceVersion'] = options.resourceVersion;
  if (options.continueToken) metadata['continue'] = options.continueToken;
  return {
    kind: 'Table',
    apiVersion: options.apiVersion,
    metadata,
    columnDefinitions: printer.columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description, priority: c.priority ?? 0 })),
    rows: objects.map((obj) => {
      const row: JsonObject = { cells: printer.cells(obj, options.now) };
      if (options.includeObject === 'Object') row['object'] = obj;
      else if (options.includeObject === 'Metadata') row['object'] = partialMetadata(obj);
      return row;
    }),
  };
}
