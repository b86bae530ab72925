import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { FieldSelectorError, type FieldRequirement } from '../fields.js';
import type { JsonObject, JsonValue } from '../json.js';
import { SelectorParseError, type Selector } from '../labels.js';
import { apiVersionOf, type ResourceType } from '../resources.js';
import { badRequest, internalError, KubeStatusError, methodNotAllowed, notFoundPath, serviceUnavailable, unauthorized, unsupportedMediaType } from '../status.js';
import { PATCH_CONTENT_TYPES, type ResourceApi } from '../store/resource-api.js';
import { coreVersions, groupInfo, groupList, openApiV3Document, openApiV3Root, resourceList, versionInfo } from './discovery.js';
import { podLog } from './pod-log.js';
import { deleteOptions, isTrue, negotiate, parseIncludeObject, parseSelectors, readJson } from './request.js';
import { partialMetadata, toTable } from './tables.js';
import { serveWatch } from './watch.js';

/** How a simulated cluster misbehaves: the fault switch. */
export type Fault =
  | { mode: 'healthy' }
  /** Every request waits `latencyMs` (default 2000) before it is served. */
  | { mode: 'slow'; latencyMs?: number }
  /** Every request fails with a Status: 503 ServiceUnavailable (default) or 500 InternalError. */
  | { mode: 'erroring'; code?: 500 | 503 }
  /** The port stops listening and open connections (watches included) are dropped. */
  | { mode: 'unreachable' };

export type HttpServerOptions = {
  api: ResourceApi;
  host: string;
  port: number;
  /** Bearer token every request must carry (except /version, /healthz, /livez, /readyz); undefined: no authentication. */
  token?: string;
  /** Serve HTTPS with this certificate (PEM); plain HTTP without. */
  tls?: { certPem: string; keyPem: string };
  bookmarkIntervalMs: number;
  maxBodyBytes?: number;
  onInternalError?: (error: unknown) => void;
  /** Read-only resources computed on request rather than stored (e.g. `metrics.k8s.io`): get and list only. */
  computed?: (type: ResourceType) => ComputedResource | undefined;
};

/** A read-only resource whose objects are computed on each request. */
export interface ComputedResource {
  get(namespace: string | undefined, name: string): JsonObject;
  list(options: { namespace?: string; labelSelector?: Selector; fieldSelector?: FieldRequirement[] }): JsonObject[];
}

type Target = { type: ResourceType; namespace?: string; name?: string; subresource?: string };

const PUBLIC_PATHS = new Set(['/version', '/healthz', '/livez', '/readyz']);

/** The simulated cluster's Kubernetes API over HTTP/1.1 (JSON only). */
export class KubeHttpServer {
  private server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly watches = new Set<() => void>();
  private fault: Fault = { mode: 'healthy' };
  private listening = false;
  private boundPort: number;

  constructor(private readonly options: HttpServerOptions) {
    this.boundPort = options.port;
    this.server = this.makeServer();
  }

  private makeServer(): Server {
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    const tls = this.options.tls;
    const server: Server = tls ? createTlsServer({ cert: tls.certPem, key: tls.keyPem }, handler) : createServer(handler);
    server.keepAliveTimeout = 5000;
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    return server;
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    const host = this.options.host === '0.0.0.0' ? '127.0.0.1' : this.options.host;
    return `${this.options.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${this.boundPort}`;
  }

  currentFault(): Fault {
    return this.fault;
  }

  async listen(): Promise<void> {
    if (this.listening) return;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.server.once('error', onError);
      this.server.listen(this.boundPort, this.options.host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    this.boundPort = (this.server.address() as AddressInfo).port;
    this.listening = true;
  }

  /** Stops listening and drops every open connection (watches included). */
  async closeListener(): Promise<void> {
    for (const end of [...this.watches]) end();
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
    this.server = this.makeServer();
  }

  /** Ends every open watch stream (clients reconnect from their last resourceVersion). */
  endWatches(): void {
    for (const end of [...this.watches]) end();
  }

  async setFault(fault: Fault): Promise<void> {
    this.fault = fault;
    if (fault.mode === 'unreachable') {
      await this.closeListener();
      return;
    }
    if (fault.mode === 'erroring') for (const end of [...this.watches]) end();
    await this.listen();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (this.fault.mode === 'slow') await new Promise((resolve) => setTimeout(resolve, (this.fault as { latencyMs?: number }).latencyMs ?? 2000));
      if (this.fault.mode === 'erroring') {
        throw (this.fault as { code?: number }).code === 500 ? internalError('the simulated cluster is erroring (fault switch)') : serviceUnavailable('the simulated cluster is erroring (fault switch)');
      }
      if (this.fault.mode === 'unreachable') {
        req.socket.destroy();
        return;
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
      if (PUBLIC_PATHS.has(path)) {
        if (path === '/version') return send(res, 200, versionInfo());
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('ok');
        return;
      }
      if (this.options.token !== undefined && !sameSecret(req.headers.authorization, `Bearer ${this.options.token}`)) throw unauthorized();
      await this.route(req, res, url, path);
    } catch (error) {
      this.fail(res, error);
    }
  }

  private fail(res: ServerResponse, error: unknown): void {
    let status: KubeStatusError;
    if (error instanceof KubeStatusError) status = error;
    else if (error instanceof SelectorParseError || error instanceof FieldSelectorError) status = badRequest(error.message);
    else {
      (this.options.onInternalError ?? ((e: unknown) => console.error('cluster simulator: internal error', e)))(error);
      status = internalError(error instanceof Error ? error.message : String(error));
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    send(res, status.code, status.toStatus());
  }

  private async route(req: IncomingMessage, res: ServerResponse, url: URL, path: string): Promise<void> {
    const { api } = this.options;
    const registry = api.registry;
    const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
    if (req.method === 'GET') {
      if (path === '/api') return send(res, 200, coreVersions(`${this.options.host}:${this.boundPort}`));
      if (path === '/apis') return send(res, 200, groupList(registry));
      if (path === '/openapi/v3') return send(res, 200, openApiV3Root(registry));
      if (segments[0] === 'openapi' && segments[1] === 'v3') {
        const group = segments[2] === 'api' ? '' : (segments[3] ?? '');
        const version = segments[2] === 'api' ? segments[3] : segments[4];
        const doc = version ? openApiV3Document(registry, group, version) : undefined;
        if (doc) return send(res, 200, doc);
        throw notFoundPath(path);
      }
      if (segments[0] === 'api' && segments.length === 2) {
        const list = resourceList(registry, '', segments[1]!);
        if (list) return send(res, 200, list);
      }
      if (segments[0] === 'apis' && segments.length === 2) {
        const info = groupInfo(registry, segments[1]!);
        if (info) return send(res, 200, info);
      }
      if (segments[0] === 'apis' && segments.length === 3) {
        const list = resourceList(registry, segments[1]!, segments[2]!);
        if (list) return send(res, 200, list);
      }
    }
    const target = this.resolve(segments);
    if (!target) throw notFoundPath(path);
    await this.serveResource(req, res, url, target);
  }

  private resolve(segments: string[]): Target | undefined {
    const registry = this.options.api.registry;
    let group: string;
    let version: string;
    let rest: string[];
    if (segments[0] === 'api' && segments.length >= 3) {
      group = '';
      version = segments[1]!;
      rest = segments.slice(2);
    } else if (segments[0] === 'apis' && segments.length >= 4) {
      group = segments[1]!;
      version = segments[2]!;
      rest = segments.slice(3);
    } else {
      return undefined;
    }
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const type = registry.byPath(group, version, rest[2]!);
      if (type?.namespaced && rest.length <= 5) {
        return { type, namespace: rest[1]!, ...(rest[3] ? { name: rest[3] } : {}), ...(rest[4] ? { subresource: rest[4] } : {}) };
      }
    }
    const type = registry.byPath(group, version, rest[0]!);
    if (!type || rest.length > 3) return undefined;
    if (type.namespaced && rest.length > 1) return undefined;
    return { type, ...(rest[1] ? { name: rest[1] } : {}), ...(rest[2] ? { subresource: rest[2] } : {}) };
  }

  private async serveResource(req: IncomingMessage, res: ServerResponse, url: URL, target: Target): Promise<void> {
    const { api } = this.options;
    const { type, namespace, name, subresource } = target;
    const q = url.searchParams;
    if (subresource === 'log' && type.kind === 'Pod' && type.group === '' && name !== undefined && req.method === 'GET') {
      return sendText(res, podLog(api.get(type, namespace, name), q.get('container') ?? undefined));
    }
    if (subresource !== undefined && !(subresource === 'status' && type.status) && !(subresource === 'scale' && type.scale)) {
      throw notFoundPath(url.pathname);
    }
    const writeOptions = {
      manager: q.get('fieldManager') || managerFromUserAgent(req.headers['user-agent']),
      dryRun: q.get('dryRun') === 'All',
      ...(subresource === 'status' ? { subresource: 'status' as const } : {}),
    };
    const verb = verbOf(req.method, name !== undefined, isTrue(q.get('watch')));
    if (type.verbs && verb && subresource === undefined && !type.verbs.includes(verb)) {
      throw methodNotAllowed(`${verb} is not supported on ${type.plural}${type.group ? `.${type.group}` : ''}`);
    }
    const negotiated = negotiate(req.headers.accept);
    const includeObject = parseIncludeObject(q.get('includeObject'));
    const now = api.clock.now();
    const computed = this.options.computed?.(type);
    if (computed) {
      const objects = name !== undefined ? [computed.get(namespace, name)] : computed.list({ ...(namespace !== undefined ? { namespace } : {}), ...parseSelectors(type, q, undefined) });
      if (negotiated.table) return send(res, 200, toTable(type, objects, { now, includeObject, apiVersion: negotiated.table.apiVersion }));
      if (name !== undefined) return send(res, 200, objects[0]!);
      return send(res, 200, { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata: {}, items: objects });
    }
    if (subresource === 'scale' && name !== undefined) return this.serveScale(req, res, target as Target & { name: string }, writeOptions);

    switch (req.method) {
      case 'GET': {
        const selection = {
          ...(namespace !== undefined ? { namespace } : {}),
          ...parseSelectors(type, q, name),
        };
        if (isTrue(q.get('watch'))) {
          const timeout = Number(q.get('timeoutSeconds') ?? 0);
          const end = serveWatch(
            api,
            res,
            {
              type,
              ...selection,
              ...(q.get('resourceVersion') ? { resourceVersion: q.get('resourceVersion')! } : {}),
              allowBookmarks: isTrue(q.get('allowWatchBookmarks')),
              bookmarkIntervalMs: this.options.bookmarkIntervalMs,
              ...(timeout > 0 ? { timeoutSeconds: timeout } : {}),
              ...(negotiated.table ? { table: { apiVersion: negotiated.table.apiVersion, includeObject } } : {}),
            },
            () => api.clock.now(),
          );
          this.watches.add(end);
          res.on('close', () => this.watches.delete(end));
          return;
        }
        if (name !== undefined) {
          const obj = api.get(type, namespace, name);
          if (negotiated.table) return send(res, 200, toTable(type, [obj], { now, includeObject, apiVersion: negotiated.table.apiVersion }));
          if (negotiated.partial) return send(res, 200, partialMetadata(obj, negotiated.partial.apiVersion));
          return send(res, 200, obj);
        }
        const limit = Number(q.get('limit') ?? 0);
        const result = api.list(type, { ...selection, ...(limit > 0 ? { limit } : {}), ...(q.get('continue') ? { continueToken: q.get('continue')! } : {}) });
        if (negotiated.table) {
          return send(res, 200, toTable(type, result.items, { now, includeObject, apiVersion: negotiated.table.apiVersion, resourceVersion: result.resourceVersion, ...(result.continueToken ? { continueToken: result.continueToken } : {}) }));
        }
        const listMeta: JsonObject = { resourceVersion: result.resourceVersion };
        if (result.continueToken) {
          listMeta['continue'] = result.continueToken;
          listMeta['remainingItemCount'] = result.remainingItemCount ?? 0;
        }
        if (negotiated.partial) {
          return send(res, 200, { kind: 'PartialObjectMetadataList', apiVersion: negotiated.partial.apiVersion, metadata: listMeta, items: result.items.map((o) => partialMetadata(o, negotiated.partial!.apiVersion)) });
        }
        return send(res, 200, { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata: listMeta, items: result.items });
      }
      case 'POST': {
        if (name !== undefined) throw methodNotAllowed(`the server does not allow this method on the requested resource`);
        const body = await readJson(req, this.options.maxBodyBytes);
        const created = api.create(type, namespace, body, writeOptions);
        return send(res, 201, created);
      }
      case 'PUT': {
        if (name === undefined) throw methodNotAllowed(`the server does not allow this method on the requested resource`);
        const body = await readJson(req, this.options.maxBodyBytes);
        return send(res, 200, api.update(type, namespace, name, body, writeOptions));
      }
      case 'PATCH': {
        if (name === undefined) throw methodNotAllowed(`the server does not allow this method on the requested resource`);
        const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        const patchType = PATCH_CONTENT_TYPES[contentType];
        if (!patchType) throw unsupportedMediaType(contentType);
        if (contentType === 'application/apply-patch+cbor') throw unsupportedMediaType(contentType);
        const body = await readJson(req, this.options.maxBodyBytes, patchType === 'apply');
        const existed = api.store.peek(type, namespace, name) !== undefined;
        const manager = patchType === 'apply' ? (q.get('fieldManager') ?? '') : writeOptions.manager;
        const result = api.patch(type, namespace, name, patchType, body, { ...writeOptions, manager, force: isTrue(q.get('force')) });
        return send(res, existed ? 200 : 201, result);
      }
      case 'DELETE': {
        const body = await readJson(req, this.options.maxBodyBytes, false, true);
        const options = deleteOptions(q, body);
        if (name === undefined) {
          const selection = { ...(namespace !== undefined ? { namespace } : {}), ...parseSelectors(type, q, undefined) };
          const items: JsonObject[] = [];
          for (const obj of api.list(type, selection).items) {
            const metadata = obj['metadata'] as JsonObject;
            try {
              items.push(api.delete(type, metadata['namespace'] as string | undefined, String(metadata['name']), options).object);
            } catch (error) {
              if (!(error instanceof KubeStatusError && error.code === 404)) throw error;
            }
          }
          return send(res, 200, { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata: { resourceVersion: String(api.store.resourceVersion()) }, items });
        }
        const { object, finished } = api.delete(type, namespace, name, options);
        return send(res, finished ? 200 : 202, object);
      }
      default:
        throw methodNotAllowed(`the server does not allow this method on the requested resource`);
    }
  }

  private async serveScale(req: IncomingMessage, res: ServerResponse, target: Target & { name: string }, writeOptions: { manager: string; dryRun: boolean }): Promise<void> {
    const { api } = this.options;
    const { type, namespace, name } = target;
    switch (req.method) {
      case 'GET':
        return send(res, 200, api.getScale(type, namespace, name));
      case 'PUT':
        return send(res, 200, api.updateScale(type, namespace, name, await readJson(req, this.options.maxBodyBytes), writeOptions));
      case 'PATCH': {
        const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        const patchType = PATCH_CONTENT_TYPES[contentType];
        if (!patchType) throw unsupportedMediaType(contentType);
        return send(res, 200, api.patchScale(type, namespace, name, patchType, await readJson(req, this.options.maxBodyBytes), writeOptions));
      }
      default:
        throw methodNotAllowed('the server does not allow this method on the requested resource');
    }
  }

  /** Ends every watch and closes the port for good. */
  async close(): Promise<void> {
    await this.closeListener();
  }
}

function verbOf(method: string | undefined, item: boolean, watch: boolean): string | undefined {
  switch (method) {
    case 'GET':
      return watch ? 'watch' : item ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return item ? 'delete' : 'deletecollection';
    default:
      return undefined;
  }
}

function sameSecret(given: string | undefined, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return given !== undefined && timingSafeEqual(digest(given), digest(expected));
}

function send(res: ServerResponse, code: number, body: JsonValue): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  res.end(text);
}

function sendText(res: ServerResponse, text: string): void {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** The API server's default field manager: the user agent up to its first `/` (`kubectl`, `node-fetch`). */
function managerFromUserAgent(userAgent: string | undefined): string {
  const prefix = (userAgent ?? '').split('/')[0]?.trim();
  return prefix ? prefix.slice(0, 128) : 'unknown';
}
