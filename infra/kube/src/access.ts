import { existsSync } from 'node:fs';
import {
  AdmissionregistrationV1Api,
  ApiException,
  AppsV1Api,
  BatchV1Api,
  CoreApi,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  Observable,
  RbacAuthorizationV1Api,
  VersionApi,
  Watch,
  type ConfigurationOptions,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';

/** Why a kubeconfig cannot be used: a registration error, reported with a stable code. */
export type ClusterAccessErrorCode = 'KUBECONFIG_UNREADABLE' | 'KUBECONFIG_CONTEXT_NOT_FOUND' | 'KUBECONFIG_INCOMPLETE';

export class ClusterAccessError extends Error {
  constructor(
    readonly code: ClusterAccessErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ClusterAccessError';
  }
}

export type UnreachableReason = 'connection-refused' | 'timeout' | 'dns' | 'tls' | 'connection-reset' | 'server-error' | 'unexpected-response' | 'network';

/** A cluster's health as a probe sees it. Probes never throw: every failure is a state. */
export type ClusterHealth =
  | { state: 'reachable'; serverVersion: string; latencyMs: number; checkedAt: string }
  | { state: 'unreachable'; reason: UnreachableReason; message: string; checkedAt: string }
  | { state: 'unauthorized'; httpStatus: 401 | 403; message: string; checkedAt: string };

export type ProbeOptions = { timeoutMs?: number };

/** A registered cluster reached through the real client-node. */
export type ClusterConnection = {
  readonly context: string;
  readonly server: string;
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly batch: BatchV1Api;
  readonly rbac: RbacAuthorizationV1Api;
  readonly admission: AdmissionregistrationV1Api;
  /** Any kind, by apiVersion/kind (server-side apply with a field manager goes through `objects.patch`). */
  readonly objects: KubernetesObjectApi;
  readonly watch: Watch;
  probe(options?: ProbeOptions): Promise<ClusterHealth>;
};

export type ConnectOptions = {
  /** Path of the kubeconfig file (or give `kubeconfigYaml`). */
  kubeconfigPath?: string;
  kubeconfigYaml?: string;
  /** Context to use; the kubeconfig's current context if not given. */
  context?: string;
};

/**
 * Loads a kubeconfig and builds the client-node clients for one of its
 * contexts. Nothing is contacted here: connection problems show up as the
 * probe's health states, never as exceptions. A kubeconfig that cannot be
 * read, or a context it does not define, is a `ClusterAccessError`.
 */
export function connectCluster(options: ConnectOptions): ClusterConnection {
  const kc = new KubeConfig();
  try {
    if (options.kubeconfigYaml !== undefined) kc.loadFromString(options.kubeconfigYaml);
    else if (options.kubeconfigPath !== undefined) {
      if (!existsSync(options.kubeconfigPath)) throw new Error(`no such file: ${options.kubeconfigPath}`);
      kc.loadFromFile(options.kubeconfigPath);
    } else throw new Error('give kubeconfigPath or kubeconfigYaml');
  } catch (error) {
    throw new ClusterAccessError('KUBECONFIG_UNREADABLE', `cannot read the kubeconfig: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const context = options.context ?? kc.getCurrentContext();
  if (!context || !kc.getContextObject(context)) {
    const known = kc.getContexts().map((c) => c.name);
    throw new ClusterAccessError('KUBECONFIG_CONTEXT_NOT_FOUND', `the kubeconfig has no context ${JSON.stringify(context ?? '')} (it has: ${known.join(', ') || 'none'})`);
  }
  kc.setCurrentContext(context);
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) throw new ClusterAccessError('KUBECONFIG_INCOMPLETE', `context ${JSON.stringify(context)} names no cluster with a server address`);
  if (!kc.getCurrentUser()) throw new ClusterAccessError('KUBECONFIG_INCOMPLETE', `context ${JSON.stringify(context)} names no user`);

  return {
    context,
    server: cluster.server,
    kubeConfig: kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    batch: kc.makeApiClient(BatchV1Api),
    rbac: kc.makeApiClient(RbacAuthorizationV1Api),
    admission: kc.makeApiClient(AdmissionregistrationV1Api),
    objects: KubernetesObjectApi.makeApiClient(kc),
    watch: new Watch(kc),
    probe: (probeOptions) => probeCluster(kc, probeOptions),
  };
}

/** Per-call options that abort the request on `signal`. */
function withSignal(signal: AbortSignal): ConfigurationOptions {
  const middleware = {
    pre: (context: RequestContext) => {
      context.setSignal(signal);
      return new Observable(Promise.resolve(context));
    },
    post: (response: ResponseContext) => new Observable(Promise.resolve(response)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}

/**
 * Checks a cluster: `GET /api` (authenticated: every user may read
 * discovery, so 401/403 means the credentials are refused) and `GET
 * /version`, within `timeoutMs` (default 5 s).
 */
export async function probeCluster(kc: KubeConfig, options: ProbeOptions = {}): Promise<ClusterHealth> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const started = performance.now();
  const signal = AbortSignal.timeout(timeoutMs);
  const checkedAt = () => new Date().toISOString();
  try {
    await kc.makeApiClient(CoreApi).getAPIVersions({}, withSignal(signal));
    const version = await kc.makeApiClient(VersionApi).getCode({}, withSignal(signal));
    return { state: 'reachable', serverVersion: version.gitVersion, latencyMs: Math.round(performance.now() - started), checkedAt: checkedAt() };
  } catch (error) {
    return { ...classify(error, timeoutMs), checkedAt: checkedAt() } as ClusterHealth;
  }
}

const TLS_CODES = /^(CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_|ERR_SSL_|HOSTNAME_MISMATCH)/;

function statusMessage(body: unknown): string | undefined {
  if (typeof body === 'string') {
    try {
      return statusMessage(JSON.parse(body));
    } catch {
      return body.slice(0, 200) || undefined;
    }
  }
  if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') return (body as { message: string }).message;
  return undefined;
}

/** Maps a client-node failure to a health state (no secrets: messages come from codes and Status messages). */
function classify(error: unknown, timeoutMs: number): Omit<Extract<ClusterHealth, { state: 'unreachable' }>, 'checkedAt'> | Omit<Extract<ClusterHealth, { state: 'unauthorized' }>, 'checkedAt'> {
  if (error instanceof ApiException) {
    const code = Number(error.code);
    const detail = statusMessage(error.body);
    if (code === 401 || code === 403) {
      return { state: 'unauthorized', httpStatus: code, message: `the cluster refused the credentials (HTTP ${code}${detail ? `: ${detail}` : ''})` };
    }
    if (code >= 500) return { state: 'unreachable', reason: 'server-error', message: `the API server answered HTTP ${code}${detail ? `: ${detail}` : ''}` };
    return { state: 'unreachable', reason: 'unexpected-response', message: `the API server answered HTTP ${code}${detail ? `: ${detail}` : ''}` };
  }
  const err = error as { name?: string; code?: unknown; type?: string; message?: string; cause?: { code?: unknown } } | undefined;
  const code = String(err?.code ?? err?.cause?.code ?? '');
  if (err?.name === 'AbortError' || err?.type === 'aborted' || code === 'ETIMEDOUT' || err?.name === 'TimeoutError') {
    return { state: 'unreachable', reason: 'timeout', message: `no answer within ${timeoutMs} ms` };
  }
  if (code === 'ECONNREFUSED') return { state: 'unreachable', reason: 'connection-refused', message: 'connection refused: nothing listens at the server address' };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { state: 'unreachable', reason: 'dns', message: `the server's host name does not resolve (${code})` };
  if (code === 'ECONNRESET' || code === 'EPIPE' || /socket hang up/i.test(err?.message ?? '')) {
    return { state: 'unreachable', reason: 'connection-reset', message: 'the connection was dropped before an answer' };
  }
  if (TLS_CODES.test(code)) return { state: 'unreachable', reason: 'tls', message: `TLS handshake failed (${code})` };
  return { state: 'unreachable', reason: 'network', message: `${err?.name ?? 'Error'}${code ? ` ${code}` : ''}: ${(err?.message ?? String(error)).split('\n')[0]}` };
}
