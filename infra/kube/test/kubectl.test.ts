import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connectCluster, startSimulatedCluster, type ClusterConnection, type SimulatedCluster } from '../src/index.js';
import { eventually } from './support.js';

const KUBECTL = process.env['KUBECTL'] ?? '/usr/bin/kubectl';

type Result = { code: number; stdout: string; stderr: string };

const SHOP = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
  labels: {app: shop, tier: front}
spec:
  replicas: 2
  selector:
    matchLabels: {app: shop}
  template:
    metadata:
      labels: {app: shop}
    spec:
      containers:
      - name: web
        image: shop:1.0
        ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: shop-config
  labels: {app: shop, tier: front, env: prod}
data:
  color: blue
`;

/**
 * The real kubectl (Debian's kubernetes-client) against a simulated
 * cluster, through the kubeconfig the simulator writes: what a user does
 * to look at what Canopy applied.
 */
describe('kubectl against the simulator', () => {
  let cluster: SimulatedCluster;
  let client: ClusterConnection;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    if (!existsSync(KUBECTL)) {
      throw new Error(`kubectl not found at ${KUBECTL}: this suite needs the real kubectl. Install Debian's kubernetes-client (apt-get install kubernetes-client), or point KUBECTL at a kubectl binary.`);
    }
    cluster = await startSimulatedCluster({ name: 'kubectl-sim', nodes: 2, podTiming: { scheduleMs: 20, startMs: 60, runMs: 100 } });
    client = connectCluster({ kubeconfigYaml: cluster.kubeconfig.yaml });
    dir = await mkdtemp(join(tmpdir(), 'canopy-kubectl-'));
    await cluster.writeKubeconfig(join(dir, 'kubeconfig'));
    env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, KUBECONFIG: join(dir, 'kubeconfig'), KUBECACHEDIR: join(dir, 'cache') };
  });
  afterAll(async () => {
    await cluster?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function kubectl(...args: string[]): Promise<Result> {
    return new Promise((resolve) => {
      execFile(KUBECTL, args, { env, timeout: 20_000 }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      });
    });
  }

  async function ok(...args: string[]): Promise<string> {
    const result = await kubectl(...args);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
    return result.stdout;
  }

  async function manifest(name: string, text: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  }

  it('applies client-side: created, then configured, then unchanged', async () => {
    const path = await manifest('shop.yaml', SHOP);
    expect(await ok('apply', '-f', path)).toBe('deployment.apps/shop created\nconfigmap/shop-config created\n');
    const changed = await manifest('shop-2.yaml', SHOP.replace('shop:1.0', 'shop:1.1').replace('color: blue', 'color: green'));
    expect(await ok('apply', '-f', changed)).toBe('deployment.apps/shop configured\nconfigmap/shop-config configured\n');
    expect(await ok('apply', '-f', changed)).toBe('deployment.apps/shop unchanged\nconfigmap/shop-config unchanged\n');
    const shop = await client.apps.readNamespacedDeployment({ name: 'shop', namespace: 'default' });
    expect(shop.spec?.template.spec?.containers[0]?.image).toBe('shop:1.1');
    expect(shop.metadata?.annotations?.['kubectl.kubernetes.io/last-applied-configuration']).toContain('shop:1.1');
    expect((await client.core.readNamespacedConfigMap({ name: 'shop-config', namespace: 'default' })).data).toEqual({ color: 'green' });
  });

  it('gets with label selectors in every output format', async () => {
    await eventually(async () => expect((await client.apps.readNamespacedDeployment({ name: 'shop', namespace: 'default' })).status?.readyReplicas).toBe(2));
    expect(await ok('get', 'deployments,configmaps', '-l', 'app=shop', '-o', 'name')).toBe('deployment.apps/shop\nconfigmap/shop-config\n');
    expect(await ok('get', 'configmaps', '-l', 'tier in (front),env!=dev', '-o', 'jsonpath={.items[*].metadata.name}')).toBe('shop-config');
    expect(await ok('get', 'configmaps', '-l', '!env', '-o', 'name')).toBe('');

    const table = await ok('get', 'deployment', 'shop');
    expect(table).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nshop\s+2\/2\s+2\s+2\s+\S+\n$/);
    const wide = (await ok('get', 'pods', '-l', 'app=shop', '-o', 'wide')).trim().split('\n');
    expect(wide[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/);
    expect(wide.slice(1)).toHaveLength(2);
    for (const line of wide.slice(1)) expect(line).toMatch(/^shop-\S+\s+1\/1\s+Running\s+0\s+\S+\s+10\.244\.\S+\s+kubectl-sim-node-[12]\s+<none>\s+<none>$/);

    const json = JSON.parse(await ok('get', 'pods', '-l', 'app=shop', '-o', 'json')) as { kind: string; items: { kind: string; status: { phase: string } }[] };
    expect(json.kind).toBe('List');
    expect(json.items.map((p) => `${p.kind}:${p.status.phase}`)).toEqual(['Pod:Running', 'Pod:Running']);
    const yaml = await ok('get', 'configmap', 'shop-config', '-o', 'yaml');
    expect(yaml).toMatch(/^apiVersion: v1\ndata:\n {2}color: green\nkind: ConfigMap\n/);
    const notFound = await kubectl('get', 'deployment', 'nope');
    expect(notFound.code).toBe(1);
    expect(notFound.stderr).toBe('Error from server (NotFound): deployments.apps "nope" not found\n');
  });

  it('describes a deployment with its replica sets, conditions and events', async () => {
    const out = await ok('describe', 'deployment', 'shop');
    expect(out).toMatch(/^Name:\s+shop$/m);
    expect(out).toMatch(/^Replicas:\s+2 desired \| 2 updated \| 2 total \| 2 available \| 0 unavailable$/m);
    expect(out).toMatch(/^\s+Image:\s+shop:1\.1$/m);
    expect(out).toMatch(/^\s+Available\s+True\s+MinimumReplicasAvailable$/m);
    expect(out).toMatch(/^NewReplicaSet:\s+shop-\S+ \(2\/2 replicas created\)$/m);
    expect(out).toMatch(/Normal\s+ScalingReplicaSet\s+\S+\s+deployment-controller\s+Scaled up replica set shop-\S+ from 0 to 2/);
  });

  it('applies server-side with field ownership: conflicts with another manager, --force-conflicts takes over', async () => {
    const quota = (cpu: string) => `apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: team\nspec:\n  hard:\n    pods: "10"\n    requests.cpu: "${cpu}"\n`;
    expect(await ok('apply', '--server-side', '--field-manager', 'canopy', '-f', await manifest('quota.yaml', quota('2')))).toBe('resourcequota/team serverside-applied\n');
    const conflict = await kubectl('apply', '--server-side', '-f', await manifest('quota-4.yaml', quota('4')));
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain('Apply failed with 1 conflict: conflict with "canopy": .spec.hard.requests.cpu');
    expect(await ok('apply', '--server-side', '--force-conflicts', '-f', await manifest('quota-4.yaml', quota('4')))).toBe('resourcequota/team serverside-applied\n');
    const stored = await client.core.readNamespacedResourceQuota({ name: 'team', namespace: 'default' });
    expect(stored.spec?.hard?.['requests.cpu']).toBe('4');
    expect(stored.metadata?.managedFields?.map((m) => `${m.manager}/${m.operation}`).sort()).toEqual(['canopy/Apply', 'kube-controller-manager/Update', 'kubectl/Apply']);
    await eventually(async () => expect(await ok('get', 'quota', 'team', '-o', 'jsonpath={.status.used.pods}')).toBe('2'));
  });

  it('moves an object from client-side to server-side apply without conflicts, as the server’s upgrade path does', async () => {
    const cm = (color: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: upgraded\ndata:\n  color: ${color}\n`;
    expect(await ok('apply', '-f', await manifest('upgraded.yaml', cm('green')))).toBe('configmap/upgraded created\n');
    expect(await ok('apply', '--server-side', '-f', await manifest('upgraded-2.yaml', cm('purple')))).toBe('configmap/upgraded serverside-applied\n');
    const stored = await client.core.readNamespacedConfigMap({ name: 'upgraded', namespace: 'default' });
    expect(stored.data).toEqual({ color: 'purple' });
    const owner = stored.metadata?.managedFields?.find((m) => JSON.stringify(m.fieldsV1).includes('f:color'));
    expect(`${owner?.manager}/${owner?.operation}`).toBe('kubectl/Apply');
  });

  it('watches with get -w: prints the list, then a line per change', async () => {
    const child = spawn(KUBECTL, ['get', 'configmaps', '-w', '-l', 'watch=me'], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      await client.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'before', labels: { watch: 'me' } }, data: { a: '1' } } });
      await eventually(() => expect(stdout).toMatch(/^NAME\s+DATA\s+AGE\nbefore\s+1\s+\S+\n/));
      await client.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'during', labels: { watch: 'me' } }, data: { a: '1', b: '2' } } });
      await client.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'unwatched' } } });
      await eventually(() => expect(stdout).toMatch(/\nduring\s+2\s+\S+\n$/));
      expect(stdout).not.toContain('unwatched');
      expect(stderr).toBe('');
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('creates with kubectl’s generators (protobuf bodies) for namespaces, quotas, config maps, secrets and RBAC', async () => {
    await ok('create', 'namespace', 'generated');
    const n = ['-n', 'generated'];
    await ok('create', ...n, 'quota', 'q', '--hard=pods=3,requests.cpu=500m');
    await ok('create', ...n, 'configmap', 'cfg', '--from-literal=a=1', '--from-literal=b=two');
    await ok('create', ...n, 'secret', 'generic', 'pw', '--from-literal=password=hunter2');
    await ok('create', ...n, 'serviceaccount', 'robot');
    await ok('create', ...n, 'role', 'reader', '--verb=get,list', '--resource=pods');
    await ok('create', ...n, 'rolebinding', 'readers', '--role=reader', '--serviceaccount=generated:robot', '--user=alice');
    expect((await client.core.readNamespacedResourceQuota({ name: 'q', namespace: 'generated' })).spec?.hard).toEqual({ pods: '3', 'requests.cpu': '500m' });
    expect((await client.core.readNamespacedConfigMap({ name: 'cfg', namespace: 'generated' })).data).toEqual({ a: '1', b: 'two' });
    const secret = await client.core.readNamespacedSecret({ name: 'pw', namespace: 'generated' });
    expect([secret.type, Buffer.from(secret.data?.['password'] ?? '', 'base64').toString()]).toEqual(['Opaque', 'hunter2']);
    expect((await client.rbac.readNamespacedRole({ name: 'reader', namespace: 'generated' })).rules).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }]);
    const binding = await client.rbac.readNamespacedRoleBinding({ name: 'readers', namespace: 'generated' });
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' });
    expect(binding.subjects?.map((s) => `${s.kind}:${s.namespace ?? ''}:${s.name}`)).toEqual(['User::alice', 'ServiceAccount:generated:robot']);
    const refused = await kubectl('create', ...n, 'deployment', 'd', '--image=nginx');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('send Deployment as JSON (kubectl apply -f / create -f)');
  });

  it('shows usage with kubectl top (metrics.k8s.io): pods with their CPU and memory, nodes with their share of capacity', async () => {
    const pods = (await ok('top', 'pods', '-l', 'app=shop')).trim().split('\n').map((line) => line.trimEnd());
    expect(pods[0]).toMatch(/^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)$/);
    expect(pods.slice(1)).toHaveLength(2);
    for (const line of pods.slice(1)) expect(line).toMatch(/^shop-\S+\s+\d+m\s+\d+Mi$/);
    const nodes = (await ok('top', 'nodes')).trim().split('\n').map((line) => line.trimEnd());
    expect(nodes[0]).toMatch(/^NAME\s+CPU\(cores\)\s+CPU(\(%\)|%)\s+MEMORY\(bytes\)\s+MEMORY(\(%\)|%)$/);
    expect(nodes.slice(1).map((line) => line.split(/\s+/)[0]).sort()).toEqual(['kubectl-sim-node-1', 'kubectl-sim-node-2']);
  });

  it('deletes, and the deployment’s replica sets and pods go with it', async () => {
    expect(await ok('delete', 'deployment', 'shop')).toBe('deployment.apps "shop" deleted\n');
    expect(await ok('get', 'replicasets,pods', '-l', 'app=shop', '-o', 'name')).toBe('');
    expect(await ok('delete', 'configmap', '-l', 'watch=me')).toBe('configmap "before" deleted\nconfigmap "during" deleted\n');
  });
});
