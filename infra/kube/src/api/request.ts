// Reading what a request asks for: its body, selectors, output form and delete options.
import type { IncomingMessage } from 'node:http';
import { parseFieldSelector, type FieldRequirement } from '../fields.js';
import { isObject, type JsonValue } from '../json.js';
import { parseLabelSelector, type Selector } from '../labels.js';
import type { ResourceType } from '../resources.js';
import { badRequest, KubeStatusError } from '../status.js';
import type { DeleteOptions } from '../store/resource-api.js';
import { decodeKubernetesProtobuf, UnsupportedProtobufError } from './protobuf.js';
import type { IncludeObject } from './tables.js';

export type Negotiated = { table?: { apiVersion: string }; partial?: { apiVersion: string; list: boolean } };

export function isTrue(value: string | null): boolean {
  return value === 'true' || value === '1';
}

export function parseSelectors(type: ResourceType, q: URLSearchParams, name: string | undefined): { labelSelector?: Selector; fieldSelector?: FieldRequirement[] } {
  const out: { labelSelector?: Selector; fieldSelector?: FieldRequirement[] } = {};
  const labels = q.get('labelSelector');
  if (labels) out.labelSelector = parseLabelSelector(labels);
  const fields = q.get('fieldSelector');
  const requirements = fields ? parseFieldSelector(fields, type.kind) : [];
  if (name !== undefined) requirements.push({ field: 'metadata.name', op: '=', value: name });
  if (requirements.length > 0) out.fieldSelector = requirements;
  return out;
}

export function parseIncludeObject(value: string | null): IncludeObject {
  if (value === 'None' || value === 'Object') return value;
  return 'Metadata';
}

/** Picks the Table or PartialObjectMetadata forms when the Accept header asks for them (kubectl get does). */
export function negotiate(accept: string | undefined): Negotiated {
  for (const clause of (accept ?? '').split(',')) {
    const [mediaType, ...params] = clause.split(';').map((p) => p.trim());
    if (mediaType !== 'application/json') continue;
    const p = Object.fromEntries(params.map((kv) => kv.split('=').map((s) => s.trim()) as [string, string]));
    if (!p['as']) return {};
    if (p['g'] !== 'meta.k8s.io' || (p['v'] !== 'v1' && p['v'] !== 'v1beta1')) continue;
    const apiVersion = `meta.k8s.io/${p['v']}`;
    if (p['as'] === 'Table') return { table: { apiVersion } };
    if (p['as'] === 'PartialObjectMetadata' || p['as'] === 'PartialObjectMetadataList') {
      return { partial: { apiVersion, list: p['as'] === 'PartialObjectMetadataList' } };
    }
  }
  return {};
}

export function deleteOptions(q: URLSearchParams, body: JsonValue | undefined): DeleteOptions {
  const fromBody = isObject(body) ? body : {};
  const policy = q.get('propagationPolicy') ?? (typeof fromBody['propagationPolicy'] === 'string' ? fromBody['propagationPolicy'] : undefined);
  const orphan = q.get('orphanDependents') ?? (typeof fromBody['orphanDependents'] === 'boolean' ? String(fromBody['orphanDependents']) : undefined);
  const options: DeleteOptions = { dryRun: q.get('dryRun') === 'All' || (Array.isArray(fromBody['dryRun']) && fromBody['dryRun'].includes('All')) };
  if (policy === 'Orphan' || policy === 'Background' || policy === 'Foreground') options.propagationPolicy = policy;
  else if (policy) throw badRequest(`invalid propagationPolicy ${JSON.stringify(policy)}: supported values are Orphan, Background and Foreground`);
  else if (orphan === 'true') options.propagationPolicy = 'Orphan';
  if (isObject(fromBody['preconditions'])) {
    const pre = fromBody['preconditions'];
    options.preconditions = {
      ...(typeof pre['uid'] === 'string' ? { uid: pre['uid'] } : {}),
      ...(typeof pre['resourceVersion'] === 'string' ? { resourceVersion: pre['resourceVersion'] } : {}),
    };
  }
  return options;
}

export async function readJson(req: IncomingMessage, maxBytes = 3 * 1024 * 1024, apply = false, optional = false): Promise<JsonValue> {
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new KubeStatusError(413, 'RequestEntityTooLarge', `the request body is larger than ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (contentType === 'application/vnd.kubernetes.protobuf') {
    try {
      return decodeKubernetesProtobuf(Buffer.concat(chunks));
    } catch (error) {
      if (error instanceof UnsupportedProtobufError) throw new KubeStatusError(415, 'UnsupportedMediaType', error.message);
      throw error;
    }
  }
  if (contentType === 'application/cbor' || contentType === 'application/apply-patch+cbor') {
    throw new KubeStatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json (got ${contentType})`);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) {
    if (optional) return null;
    throw badRequest('the request needs a body');
  }
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    throw badRequest(
      apply
        ? 'the apply configuration must be JSON (a subset of YAML): the simulator does not parse YAML bodies; kubectl and client-node send JSON'
        : 'the request body is not valid JSON',
    );
  }
}
