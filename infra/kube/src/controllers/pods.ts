import { timestamp } from '../clock.js';
import { asArray, clone, getPath, isObject, stringMap, type JsonObject } from '../json.js';
import type { ResourceType } from '../resources.js';
import type { Change } from '../store/object-store.js';
import type { ResourceApi } from '../store/resource-api.js';
import type { EventRecorder } from './events.js';
import { allKeys, keyOf, splitKey, type Controller, type ReconcileResult } from './manager.js';
import { conditionOf, isDeleting, nameOf, namespaceOf, setCondition, SIM_ANNOTATIONS, uidOf, writeStatus } from './util.js';

export type PodTiming = {
  /** From creation to a node being assigned. */
  scheduleMs: number;
  /** From scheduling to containers running (image pull and start). */
  startMs: number;
  /** How long a run-to-completion pod runs before it succeeds (override per pod: `sim.canopy.dev/run-seconds`). */
  runMs: number;
  /** First crash-loop back-off; doubles per restart up to five minutes, as the kubelet's. */
  crashBackoffMs: number;
};

export const DEFAULT_POD_TIMING: PodTiming = { scheduleMs: 500, startMs: 1500, runMs: 3000, crashBackoffMs: 10_000 };

type Track = { createdAt: number; scheduledAt?: number; startedAt?: number; nextRestartAt?: number };

/**
 * The scheduler and the kubelets of the simulated nodes in one: a pod is
 * bound to a Ready node (fewest pods first, honouring nodeSelector), its
 * containers start after a delay, run-to-completion pods end Succeeded, and
 * pods asked to fail (annotation `sim.canopy.dev/fail`) crash-loop, fail,
 * stay in ImagePullBackOff or stay unschedulable.
 */
export class PodController implements Controller {
  readonly name = 'pods';
  private readonly podType: ResourceType;
  private readonly nodeType: ResourceType;
  private readonly tracks = new Map<string, Track>();
  private ipCounter = 0;

  constructor(
    private readonly api: ResourceApi,
    private readonly events: EventRecorder,
    private readonly timing: PodTiming,
  ) {
    this.podType = api.resource('v1', 'Pod');
    this.nodeType = api.resource('v1', 'Node');
  }

  initialKeys(): string[] {
    return allKeys(this.api, this.podType);
  }

  keysFor(change: Change): string[] {
    if (change.resource === this.podType) {
      if (change.type === 'DELETED') {
        this.tracks.delete(uidOf(change.object));
        return [];
      }
      return [keyOf(change.object)];
    }
    if (change.resource === this.nodeType) {
      return this.api.store.peekAll(this.podType).filter((p) => !getPath(p, 'spec.nodeName')).map(keyOf);
    }
    return [];
  }

  private track(pod: JsonObject): Track {
    const uid = uidOf(pod);
    let track = this.tracks.get(uid);
    if (!track) {
      track = { createdAt: this.api.clock.now() };
      if (getPath(pod, 'spec.nodeName')) track.scheduledAt = track.createdAt;
      this.tracks.set(uid, track);
    }
    return track;
  }

  reconcile(key: string): ReconcileResult {
    const { namespace, name } = splitKey(key);
    const pod = this.api.store.peek(this.podType, namespace, name);
    if (!pod || isDeleting(pod)) return;
    const phase = getPath(pod, 'status.phase');
    if (phase === 'Succeeded' || phase === 'Failed') return;
    const track = this.track(pod);
    const now = this.api.clock.now();
    const fail = String(stringMap(getPath(pod, 'metadata.annotations'))[SIM_ANNOTATIONS.fail] ?? '');

    if (!getPath(pod, 'spec.nodeName')) {
      const due = track.createdAt + this.timing.scheduleMs;
      if (now < due) return { requeueAfterMs: due - now };
      return this.schedule(pod, track, fail === 'unschedulable');
    }
    track.scheduledAt ??= now;
    if (phase === 'Pending') {
      const due = track.scheduledAt + this.timing.startMs;
      if (now < due) return { requeueAfterMs: due - now };
      return this.start(pod, track, fail);
    }
    if (phase === 'Running') return this.whileRunning(pod, track, fail);
    return;
  }

  private schedule(pod: JsonObject, track: Track, unschedulable: boolean): ReconcileResult {
    const nodeSelector = stringMap(getPath(pod, 'spec.nodeSelector'));
    const nodes = unschedulable
      ? []
      : this.api.store
          .peekAll(this.nodeType)
          .filter((node) => conditionOf(node, 'Ready')?.['status'] === 'True' && getPath(node, 'spec.unschedulable') !== true)
          .filter((node) => {
            const labels = stringMap(getPath(node, 'metadata.labels'));
            return Object.entries(nodeSelector).every(([k, v]) => labels[k] === v);
          });
    const now = timestamp(this.api.clock.now());
    if (nodes.length === 0) {
      const status = clone(isObject(pod['status']) ? pod['status'] : {});
      const total = this.api.store.peekAll(this.nodeType).length;
      const message = `0/${total} nodes are available: ${unschedulable ? `${total} node(s) didn't match the simulated constraint (sim.canopy.dev/fail=unschedulable)` : `${total} node(s) didn't match Pod's node affinity/selector`}. preemption: not eligible due to preemption policy.`;
      setCondition(status, { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }, now, false, true);
      writeStatus(this.api, this.podType, pod, status, 'kube-scheduler');
      this.events.record(pod, this.podType, 'Warning', 'FailedScheduling', message, 'default-scheduler');
      return { requeueAfterMs: 30_000 };
    }
    const load = new Map<string, number>();
    for (const p of this.api.store.peekAll(this.podType)) {
      const node = getPath(p, 'spec.nodeName');
      if (typeof node === 'string') load.set(node, (load.get(node) ?? 0) + 1);
    }
    nodes.sort((a, b) => (load.get(nameOf(a)) ?? 0) - (load.get(nameOf(b)) ?? 0) || (nameOf(a) < nameOf(b) ? -1 : 1));
    const node = nodes[0]!;
    const bound = clone(pod);
    (bound['spec'] as JsonObject)['nodeName'] = nameOf(node);
    const updated = this.api.update(this.podType, namespaceOf(pod), nameOf(pod), bound, { manager: 'kube-scheduler' });
    const status = clone(isObject(updated['status']) ? updated['status'] : {});
    setCondition(status, { type: 'PodScheduled', status: 'True' }, now, false, true);
    status['containerStatuses'] = asArray(getPath(pod, 'spec.containers'))
      .filter(isObject)
      .map((c) => this.containerStatus(c, { waiting: { reason: 'ContainerCreating' } }, false, 0));
    writeStatus(this.api, this.podType, updated, status, 'kube-scheduler');
    this.events.record(pod, this.podType, 'Normal', 'Scheduled', `Successfully assigned ${namespaceOf(pod)}/${nameOf(pod)} to ${nameOf(node)}`, 'default-scheduler');
    track.scheduledAt = this.api.clock.now();
    return { requeueAfterMs: this.timing.startMs };
  }

  private nodeIp(nodeName: string): string {
    const node = this.api.store.peek(this.nodeType, undefined, nodeName);
    const address = asArray(getPath(node, 'status.addresses'))
      .filter(isObject)
      .find((a) => a['type'] === 'InternalIP');
    return address ? String(address['address']) : '10.0.0.1';
  }

  private start(pod: JsonObject, track: Track, fail: string): ReconcileResult {
    const now = this.api.clock.now();
    const time = timestamp(now);
    const nodeName = String(getPath(pod, 'spec.nodeName'));
    const host = nodeName;
    const containers = asArray(getPath(pod, 'spec.containers')).filter(isObject);
    const restartPolicy = String(getPath(pod, 'spec.restartPolicy') ?? 'Always');
    const status = clone(isObject(pod['status']) ? pod['status'] : {});
    status['hostIP'] = this.nodeIp(nodeName);
    status['hostIPs'] = [{ ip: status['hostIP'] }];
    status['startTime'] ??= time;
    setCondition(status, { type: 'PodReadyToStartContainers', status: 'True' }, time, false, true);
    setCondition(status, { type: 'Initialized', status: 'True' }, time, false, true);
    setCondition(status, { type: 'PodScheduled', status: 'True' }, time, false, true);

    if (fail === 'image-pull') {
      status['phase'] = 'Pending';
      status['containerStatuses'] = containers.map((c) => this.containerStatus(c, { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${String(c['image'])}"` } }, false, 0));
      setCondition(status, { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${containers.map((c) => String(c['name'])).join(' ')}]` }, time, false, true);
      setCondition(status, { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${containers.map((c) => String(c['name'])).join(' ')}]` }, time, false, true);
      writeStatus(this.api, this.podType, pod, status, 'kubelet');
      for (const c of containers) this.events.record(pod, this.podType, 'Warning', 'Failed', `Failed to pull image "${String(c['image'])}": simulated pull failure (sim.canopy.dev/fail=image-pull)`, 'kubelet', host);
      return;
    }

    status['podIP'] = this.allocateIp();
    status['podIPs'] = [{ ip: status['podIP'] }];
    for (const c of containers) {
      this.events.record(pod, this.podType, 'Normal', 'Pulled', `Container image "${String(c['image'])}" already present on machine`, 'kubelet', host);
      this.events.record(pod, this.podType, 'Normal', 'Created', `Created container: ${String(c['name'])}`, 'kubelet', host);
      this.events.record(pod, this.podType, 'Normal', 'Started', `Started container ${String(c['name'])}`, 'kubelet', host);
    }
    const crashing = fail === 'true' || fail === 'crash';
    if (crashing && restartPolicy !== 'Always') {
      status['phase'] = 'Failed';
      status['containerStatuses'] = containers.map((c) => this.containerStatus(c, { terminated: { exitCode: 1, reason: 'Error', startedAt: time, finishedAt: time } }, false, 0));
      setCondition(status, { type: 'Ready', status: 'False', reason: 'PodFailed' }, time, false, true);
      setCondition(status, { type: 'ContainersReady', status: 'False', reason: 'PodFailed' }, time, false, true);
      writeStatus(this.api, this.podType, pod, status, 'kubelet');
      return;
    }
    if (crashing) {
      status['phase'] = 'Running';
      status['containerStatuses'] = containers.map((c) => this.crashStatus(c, 1, time));
      const unready = `containers with unready status: [${containers.map((c) => String(c['name'])).join(' ')}]`;
      setCondition(status, { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: unready }, time, false, true);
      setCondition(status, { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: unready }, time, false, true);
      writeStatus(this.api, this.podType, pod, status, 'kubelet');
      for (const c of containers) this.events.record(pod, this.podType, 'Warning', 'BackOff', `Back-off restarting failed container ${String(c['name'])} in pod ${nameOf(pod)}_${namespaceOf(pod)}(${uidOf(pod)})`, 'kubelet', host);
      track.nextRestartAt = now + this.timing.crashBackoffMs;
      return { requeueAfterMs: this.timing.crashBackoffMs };
    }
    status['phase'] = 'Running';
    status['containerStatuses'] = containers.map((c) => this.containerStatus(c, { running: { startedAt: time } }, true, 0));
    setCondition(status, { type: 'Ready', status: 'True' }, time, false, true);
    setCondition(status, { type: 'ContainersReady', status: 'True' }, time, false, true);
    writeStatus(this.api, this.podType, pod, status, 'kubelet');
    track.startedAt = now;
    if (restartPolicy !== 'Always') return { requeueAfterMs: this.runMs(pod) };
    return;
  }

  private whileRunning(pod: JsonObject, track: Track, fail: string): ReconcileResult {
    const now = this.api.clock.now();
    const time = timestamp(now);
    const restartPolicy = String(getPath(pod, 'spec.restartPolicy') ?? 'Always');
    if (fail === 'true' || fail === 'crash') {
      if (restartPolicy !== 'Always') return;
      const due = track.nextRestartAt ?? now;
      if (now < due) return { requeueAfterMs: due - now };
      const status = clone(pod['status'] as JsonObject);
      const containers = asArray(getPath(pod, 'spec.containers')).filter(isObject);
      const restarts = Number(asArray(status['containerStatuses']).filter(isObject)[0]?.['restartCount'] ?? 0) + 1;
      status['containerStatuses'] = containers.map((c) => this.crashStatus(c, restarts, time));
      writeStatus(this.api, this.podType, pod, status, 'kubelet');
      for (const c of containers) this.events.record(pod, this.podType, 'Warning', 'BackOff', `Back-off restarting failed container ${String(c['name'])} in pod ${nameOf(pod)}_${namespaceOf(pod)}(${uidOf(pod)})`, 'kubelet', String(getPath(pod, 'spec.nodeName')));
      const backoff = Math.min(this.timing.crashBackoffMs * 2 ** (restarts - 1), 300_000);
      track.nextRestartAt = now + backoff;
      return { requeueAfterMs: backoff };
    }
    if (restartPolicy === 'Always') return;
    track.startedAt ??= now;
    const due = track.startedAt + this.runMs(pod);
    if (now < due) return { requeueAfterMs: due - now };
    const status = clone(pod['status'] as JsonObject);
    const containers = asArray(getPath(pod, 'spec.containers')).filter(isObject);
    const startedAt = timestamp(track.startedAt);
    status['phase'] = 'Succeeded';
    status['containerStatuses'] = containers.map((c) => this.containerStatus(c, { terminated: { exitCode: 0, reason: 'Completed', startedAt, finishedAt: time } }, false, 0));
    setCondition(status, { type: 'Ready', status: 'False', reason: 'PodCompleted' }, time, false, true);
    setCondition(status, { type: 'ContainersReady', status: 'False', reason: 'PodCompleted' }, time, false, true);
    setCondition(status, { type: 'PodReadyToStartContainers', status: 'False' }, time, false, true);
    writeStatus(this.api, this.podType, pod, status, 'kubelet');
    return;
  }

  private runMs(pod: JsonObject): number {
    const seconds = Number(stringMap(getPath(pod, 'metadata.annotations'))[SIM_ANNOTATIONS.runSeconds]);
    return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : this.timing.runMs;
  }

  private crashStatus(container: JsonObject, restarts: number, time: string): JsonObject {
    const status = this.containerStatus(container, { waiting: { reason: 'CrashLoopBackOff', message: `back-off restarting failed container=${String(container['name'])}` } }, false, restarts);
    status['lastState'] = { terminated: { exitCode: 1, reason: 'Error', startedAt: time, finishedAt: time } };
    return status;
  }

  private containerStatus(container: JsonObject, state: JsonObject, ready: boolean, restartCount: number): JsonObject {
    const image = String(container['image'] ?? '');
    return {
      name: String(container['name'] ?? ''),
      image,
      imageID: `${image.split(':')[0]}@sha256:${'0'.repeat(64)}`,
      containerID: `containerd://${Buffer.from(`${image}${String(container['name'])}${restartCount}`).toString('hex').padEnd(64, '0').slice(0, 64)}`,
      ready,
      started: isObject(state['running']),
      restartCount,
      state,
      lastState: {},
    };
  }

  private allocateIp(): string {
    this.ipCounter += 1;
    return `10.244.${Math.floor(this.ipCounter / 250) % 250}.${(this.ipCounter % 250) + 2}`;
  }
}
