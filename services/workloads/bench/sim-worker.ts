import { parentPort, workerData } from 'node:worker_threads';
import { ManualClock, startSimulatedCluster, type SimulatedCluster } from '@canopy/kube';

/**
 * The simulated clusters of the ingest benchmark, on a thread of their own
 * (their API servers serialize every watch event), so that the bench
 * thread measures the watcher, as a process watching remote clusters would.
 * Pods are created bound to a node, then their status rewritten at the
 * requested rate, each write a status the watcher has not seen (a
 * crash-looping container's restart count).
 */
export interface SimSetup {
  clusters: number;
  namespacesPerCluster: number;
  podsPerNamespace: number;
}

export type SimCommand = { run: { ratePerSecond: number; seconds: number } } | { stop: true };
export type SimMessage = { ready: { name: string; yaml: string }[] } | { ran: { writes: number; seconds: number } } | { stopped: true };

const setup = workerData as SimSetup;
const port = parentPort!;
const sims: SimulatedCluster[] = [];
const pods: { sim: SimulatedCluster; namespace: string; name: string; restarts: number }[] = [];

for (let c = 0; c < setup.clusters; c++) {
  const namespaces = Array.from({ length: setup.namespacesPerCluster }, (_, n) => `ns-${n}`);
  const sim = await startSimulatedCluster({ name: `bench-${c}`, clock: new ManualClock(Date.parse('2026-05-01T00:00:00Z')), nodes: 3, namespaces, watchHistory: 1_000_000, bookmarkIntervalMs: 5000 });
  sims.push(sim);
  const podType = sim.api.resource('v1', 'Pod');
  for (const namespace of namespaces) {
    for (let p = 0; p < setup.podsPerNamespace; p++) {
      const name = `app-${p}`;
      sim.api.create(podType, namespace, { metadata: { name }, spec: { nodeName: `bench-${c}-node-1`, containers: [{ name: 'main', image: 'app:1' }] } });
      pods.push({ sim, namespace, name, restarts: 0 });
      write(pods.at(-1)!);
    }
  }
}
port.postMessage({ ready: sims.map((sim) => ({ name: sim.name, yaml: sim.kubeconfig.yaml })) } satisfies SimMessage);

/** A kubelet's status write, straight into the simulator's store (its API layer's validation and managed-fields bookkeeping would make the simulator, not the watcher, the bottleneck); watches see it as any write. */
function write(pod: (typeof pods)[number]): void {
  const api = pod.sim.api;
  const type = api.resource('v1', 'Pod');
  const current = api.store.peek(type, pod.namespace, pod.name)!;
  pod.restarts += 1;
  const status = {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady' }],
    containerStatuses: [{ name: 'main', ready: false, restartCount: pod.restarts, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off restarting failed container=main' } } }],
  };
  api.store.replace(type, { ...current, status });
}

port.on('message', (command: SimCommand) => {
  if ('stop' in command) {
    void Promise.all(sims.map((sim) => sim.stop())).then(() => port.postMessage({ stopped: true } satisfies SimMessage));
    return;
  }
  const { ratePerSecond, seconds } = command.run;
  const started = performance.now();
  let writes = 0;
  let next = 0;
  // Writes in 10 ms slices, each catching up with the rate (or as many as it can when the rate is Infinity).
  const slice = () => {
    const elapsed = (performance.now() - started) / 1000;
    if (elapsed >= seconds) {
      port.postMessage({ ran: { writes, seconds: elapsed } } satisfies SimMessage);
      return;
    }
    const due = Number.isFinite(ratePerSecond) ? Math.floor(elapsed * ratePerSecond) : writes + 500;
    while (writes < due) {
      write(pods[next]!);
      next = (next + 1) % pods.length;
      writes += 1;
    }
    setTimeout(slice, 10);
  };
  slice();
});
