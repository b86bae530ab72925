import { randomBytes, randomUUID } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeHttpServer, type Fault } from './api/http-server.js';
import { ManualClock, systemClock, timestamp, type Clock } from './clock.js';
import { CronJobController } from './controllers/cronjobs.js';
import { DaemonSetController } from './controllers/daemonsets.js';
import { DeploymentController } from './controllers/deployments.js';
import { EventRecorder } from './controllers/events.js';
import { JobController } from './controllers/jobs.js';
import { ControllerManager, type Controller } from './controllers/manager.js';
import { NamespaceController } from './controllers/namespaces.js';
import { DEFAULT_POD_TIMING, PodController, type PodTiming } from './controllers/pods.js';
import { QuotaController } from './controllers/quotas.js';
import { ReplicaSetController } from './controllers/replicasets.js';
import { StatefulSetController } from './controllers/statefulsets.js';
import type { JsonObject } from './json.js';
import { kubeconfigObject, kubeconfigYaml, writeKubeconfigFile, type KubeconfigEntry } from './kubeconfig.js';
import { BUILTIN_RESOURCES, ResourceRegistry, type ResourceType } from './resources.js';
import { METRICS_RESOURCES, MetricsApi } from './metrics/metrics-api.js';
import { ObjectStore } from './store/object-store.js';
import { selfSignedCertificate } from './tls.js';
import { ResourceApi } from './store/resource-api.js';

export type NodeSpec = { name: string; labels?: Record<string, string>; cpu?: string; memory?: string; pods?: number };

export type SimulatedClusterOptions = {
  /** The cluster's name: the kubeconfig's cluster, user and context are named after it. */
  name: string;
  /** Simulated nodes: a count (named `<name>-node-1`…) or their specs. Default 3. */
  nodes?: number | (string | NodeSpec)[];
  /** The controllers' time: the system clock (default) or a `ManualClock` for tests. */
  clock?: Clock;
  host?: string;
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Bearer token clients must present; generated unless given; `null` turns authentication off. */
  token?: string | null;
  /** HTTPS with a generated self-signed certificate (default), or plain HTTP with `false` (kubectl then sends no token: use `token: null`). */
  tls?: boolean;
  /** Delays of the pod lifecycle (ms, on the simulator's clock). */
  podTiming?: Partial<PodTiming>;
  /** How often watches that allow bookmarks get a BOOKMARK event (real time, ms). Default 10 s. */
  bookmarkIntervalMs?: number;
  /** Changes kept for watches to resume from; a watch from an older resourceVersion gets 410 Gone. Default 5000. */
  watchHistory?: number;
  /** Events kept (oldest dropped first). Default 1000. */
  eventLimit?: number;
  /** Namespaces to create at start, besides default, kube-system, kube-public and kube-node-lease. */
  namespaces?: string[];
  /** Further resource types served (e.g. another API group), and controllers for them. */
  extraResources?: ResourceType[];
  extraControllers?: (api: ResourceApi, events: EventRecorder) => Controller[];
};

/** A running simulated cluster. */
export type SimulatedCluster = {
  readonly name: string;
  /** `https://127.0.0.1:<port>` */
  readonly url: string;
  /** PEM of the self-signed certificate the server presents (undefined with `tls: false`). */
  readonly caPem: string | undefined;
  /** The bearer token, or undefined when authentication is off. */
  readonly token: string | undefined;
  readonly clock: Clock;
  /** A kubeconfig with one context, named after the cluster. */
  readonly kubeconfig: { object: JsonObject; yaml: string; entry: KubeconfigEntry };
  /** Direct access to the cluster's state (no HTTP): for tests and for the simulator's own tooling. */
  readonly api: ResourceApi;
  /** A client-node KubeConfig for this cluster. */
  kubeConfig(): KubeConfig;
  writeKubeconfig(path: string): Promise<void>;
  setFault(fault: Fault | Fault['mode']): Promise<void>;
  fault(): Fault;
  /** Forgets the watch history: watches resuming from an earlier resourceVersion get 410 Gone. */
  compactWatchHistory(): void;
  /** Ends every open watch, as an API server does from time to time; clients resume from their last resourceVersion. */
  closeWatches(): void;
  /** Resolves once the controllers have no queued work. */
  settled(): Promise<void>;
  /** With a ManualClock: moves time forward (firing due controller work) and waits until the controllers settle. */
  advance(ms: number): Promise<void>;
  stop(): Promise<void>;
};

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

function dnsName(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'sim'
  );
}

function nodeObject(spec: NodeSpec, index: number, clusterName: string, now: string): JsonObject {
  const cpu = spec.cpu ?? '4';
  const memory = spec.memory ?? '16Gi';
  const pods = String(spec.pods ?? 110);
  const condition = (type: string, status: string, reason: string, message: string) => ({ type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: now });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: spec.name,
      labels: {
        'kubernetes.io/hostname': spec.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node.kubernetes.io/instance-type': 'simulated',
        'topology.kubernetes.io/zone': `${dnsName(clusterName)}-zone-${(index % 3) + 1}`,
        ...spec.labels,
      },
      annotations: { 'sim.canopy.dev/simulated': 'true' },
    },
    spec: { podCIDR: `10.244.${index}.0/24`, podCIDRs: [`10.244.${index}.0/24`] },
    status: {
      capacity: { cpu, memory, pods, 'ephemeral-storage': '100Gi' },
      allocatable: { cpu, memory, pods, 'ephemeral-storage': '100Gi' },
      conditions: [
        condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      addresses: [
        { type: 'InternalIP', address: `10.0.0.${10 + index}` },
        { type: 'Hostname', address: spec.name },
      ],
      nodeInfo: {
        machineID: randomUUID().replace(/-/g, ''),
        systemUUID: randomUUID(),
        bootID: randomUUID(),
        kernelVersion: '6.1.0-canopy-simulated',
        osImage: 'Canopy simulated node',
        containerRuntimeVersion: 'containerd://1.7.0-simulated',
        kubeletVersion: 'v1.32.0',
        kubeProxyVersion: 'v1.32.0',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}

/**
 * Starts a simulated cluster: an in-process Kubernetes API server on
 * 127.0.0.1 with simulated nodes and controllers. The real client-node and
 * kubectl talk to it over HTTP with the kubeconfig it provides.
 */
export async function startSimulatedCluster(options: SimulatedClusterOptions): Promise<SimulatedCluster> {
  const clock = options.clock ?? systemClock;
  const registry = new ResourceRegistry([...BUILTIN_RESOURCES, ...METRICS_RESOURCES, ...(options.extraResources ?? [])]);
  const store = new ObjectStore(options.watchHistory ?? 5000);
  const api = new ResourceApi(registry, store, clock);
  const token = options.token === null ? undefined : (options.token ?? randomBytes(24).toString('base64url'));

  const now = timestamp(clock.now());
  const nsType = api.resource('v1', 'Namespace');
  for (const ns of [...SYSTEM_NAMESPACES, ...(options.namespaces ?? [])]) {
    if (!store.peek(nsType, undefined, ns)) api.create(nsType, undefined, { metadata: { name: ns } }, { manager: 'kube-apiserver' });
  }
  const nodeSpecs: NodeSpec[] =
    typeof options.nodes === 'object'
      ? options.nodes.map((n) => (typeof n === 'string' ? { name: n } : n))
      : Array.from({ length: options.nodes ?? 3 }, (_, i) => ({ name: `${dnsName(options.name)}-node-${i + 1}` }));
  const nodeType = api.resource('v1', 'Node');
  nodeSpecs.forEach((spec, i) => api.create(nodeType, undefined, nodeObject(spec, i + 1, options.name, now), { manager: 'kubelet' }));

  const events = new EventRecorder(api, options.eventLimit ?? 1000);
  const controllers: Controller[] = [
    new NamespaceController(api),
    new DeploymentController(api, events),
    new ReplicaSetController(api, events),
    new StatefulSetController(api, events),
    new DaemonSetController(api, events),
    new JobController(api, events),
    new CronJobController(api, events),
    new PodController(api, events, { ...DEFAULT_POD_TIMING, ...options.podTiming }),
    new QuotaController(api),
    ...(options.extraControllers?.(api, events) ?? []),
  ];
  const manager = new ControllerManager(api, clock, controllers);
  manager.start();

  const metrics = new MetricsApi(api);
  const host = options.host ?? '127.0.0.1';
  const certificate = options.tls === false ? undefined : selfSignedCertificate([...new Set(['127.0.0.1', 'localhost', '::1', host === '0.0.0.0' ? '127.0.0.1' : host])]);
  const server = new KubeHttpServer({
    api,
    host,
    ...(certificate ? { tls: certificate } : {}),
    port: options.port ?? 0,
    ...(token !== undefined ? { token } : {}),
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 10_000,
    computed: (type) => metrics.resource(type),
  });
  try {
    await server.listen();
  } catch (error) {
    manager.stop();
    throw error;
  }

  const entry: KubeconfigEntry = { name: options.name, server: server.url, ...(token !== undefined ? { token } : {}), ...(certificate ? { caPem: certificate.certPem } : {}) };
  let stopped = false;
  return {
    name: options.name,
    url: server.url,
    caPem: certificate?.certPem,
    token,
    clock,
    api,
    kubeconfig: { object: kubeconfigObject([entry]), yaml: kubeconfigYaml([entry]), entry },
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromString(kubeconfigYaml([entry]));
      return kc;
    },
    writeKubeconfig: (path) => writeKubeconfigFile(path, [entry]),
    setFault: (fault) => server.setFault(typeof fault === 'string' ? ({ mode: fault } as Fault) : fault),
    fault: () => server.currentFault(),
    compactWatchHistory: () => store.compact(),
    closeWatches: () => server.endWatches(),
    settled: () => manager.idle(),
    async advance(ms) {
      if (!(clock instanceof ManualClock)) throw new Error('advance() needs the cluster to run on a ManualClock');
      clock.advance(ms);
      await manager.idle();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      manager.stop();
      await server.close();
    },
  };
}
