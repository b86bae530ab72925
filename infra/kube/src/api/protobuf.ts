import type { JsonObject, JsonValue } from '../json.js';

/**
 * Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`),
 * decoded for the kinds kubectl's generator commands create with it
 * (`kubectl create namespace|configmap|secret|serviceaccount|quota|role|
 * clusterrole|rolebinding|clusterrolebinding`). Other kinds are refused
 * with 415: decoding them needs their full schemas.
 */
export class UnsupportedProtobufError extends Error {}

type Field =
  | { name: string; type: 'string' | 'bytes' | 'bool' | 'int' | 'time' }
  | { name: string; type: 'message'; message: Schema }
  | { name: string; type: 'map'; value: 'string' | 'bytes' | 'quantity' };
type Schema = Record<number, Field & { repeated?: boolean }>;

const s = (name: string, repeated = false) => ({ name, type: 'string' as const, repeated });
const msg = (name: string, message: Schema, repeated = false) => ({ name, type: 'message' as const, message, repeated });

const OWNER_REFERENCE: Schema = { 1: s('kind'), 3: s('name'), 4: s('uid'), 5: s('apiVersion'), 6: { name: 'controller', type: 'bool' }, 7: { name: 'blockOwnerDeletion', type: 'bool' } };
const OBJECT_META: Schema = {
  1: s('name'),
  2: s('generateName'),
  3: s('namespace'),
  5: s('uid'),
  6: s('resourceVersion'),
  7: { name: 'generation', type: 'int' },
  8: { name: 'creationTimestamp', type: 'time' },
  11: { name: 'labels', type: 'map', value: 'string' },
  12: { name: 'annotations', type: 'map', value: 'string' },
  13: msg('ownerReferences', OWNER_REFERENCE, true),
  14: s('finalizers', true),
};
const OBJECT_REFERENCE: Schema = { 1: s('kind'), 2: s('namespace'), 3: s('name'), 4: s('uid'), 5: s('apiVersion'), 6: s('resourceVersion'), 7: s('fieldPath') };
const POLICY_RULE: Schema = { 1: s('verbs', true), 2: s('apiGroups', true), 3: s('resources', true), 4: s('resourceNames', true), 5: s('nonResourceURLs', true) };
const SUBJECT: Schema = { 1: s('kind'), 2: s('apiGroup'), 3: s('name'), 4: s('namespace') };
const ROLE_REF: Schema = { 1: s('apiGroup'), 2: s('kind'), 3: s('name') };
const BINDING: Schema = { 1: msg('metadata', OBJECT_META), 2: msg('subjects', SUBJECT, true), 3: msg('roleRef', ROLE_REF) };
const ROLE: Schema = { 1: msg('metadata', OBJECT_META), 2: msg('rules', POLICY_RULE, true) };

const KINDS: Record<string, Schema> = {
  'v1/Namespace': { 1: msg('metadata', OBJECT_META), 2: msg('spec', { 1: s('finalizers', true) }) },
  'v1/ConfigMap': { 1: msg('metadata', OBJECT_META), 2: { name: 'data', type: 'map', value: 'string' }, 3: { name: 'binaryData', type: 'map', value: 'bytes' }, 4: { name: 'immutable', type: 'bool' } },
  'v1/Secret': { 1: msg('metadata', OBJECT_META), 2: { name: 'data', type: 'map', value: 'bytes' }, 3: s('type'), 4: { name: 'stringData', type: 'map', value: 'string' }, 5: { name: 'immutable', type: 'bool' } },
  'v1/ServiceAccount': { 1: msg('metadata', OBJECT_META), 2: msg('secrets', OBJECT_REFERENCE, true), 3: msg('imagePullSecrets', { 1: s('name') }, true), 4: { name: 'automountServiceAccountToken', type: 'bool' } },
  'v1/ResourceQuota': { 1: msg('metadata', OBJECT_META), 2: msg('spec', { 1: { name: 'hard', type: 'map', value: 'quantity' }, 2: s('scopes', true) }) },
  'rbac.authorization.k8s.io/v1/Role': ROLE,
  'rbac.authorization.k8s.io/v1/ClusterRole': ROLE,
  'rbac.authorization.k8s.io/v1/RoleBinding': BINDING,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': BINDING,
};

type Raw = { field: number; wire: number; value: bigint | Buffer };

function readVarint(buf: Buffer, at: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let i = at; i < buf.length; i++) {
    const byte = buf[i]!;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [result, i + 1];
    shift += 7n;
  }
  throw new UnsupportedProtobufError('truncated protobuf varint');
}

function fields(buf: Buffer): Raw[] {
  const out: Raw[] = [];
  let at = 0;
  while (at < buf.length) {
    const [key, next] = readVarint(buf, at);
    at = next;
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      const [value, after] = readVarint(buf, at);
      out.push({ field, wire, value });
      at = after;
    } else if (wire === 2) {
      const [length, after] = readVarint(buf, at);
      const end = after + Number(length);
      if (end > buf.length) throw new UnsupportedProtobufError('truncated protobuf message');
      out.push({ field, wire, value: buf.subarray(after, end) });
      at = end;
    } else if (wire === 1 || wire === 5) {
      at += wire === 1 ? 8 : 4;
    } else {
      throw new UnsupportedProtobufError(`unsupported protobuf wire type ${wire}`);
    }
  }
  return out;
}

function decodeMessage(buf: Buffer, schema: Schema): JsonObject {
  const out: JsonObject = {};
  for (const raw of fields(buf)) {
    const field = schema[raw.field];
    if (!field) continue;
    let value: JsonValue | undefined;
    const bytes = raw.value instanceof Buffer ? raw.value : Buffer.alloc(0);
    switch (field.type) {
      case 'string':
        value = bytes.toString('utf8');
        break;
      case 'bytes':
        value = bytes.toString('base64');
        break;
      case 'bool':
        value = raw.value === 1n;
        break;
      case 'int':
        value = typeof raw.value === 'bigint' ? Number(BigInt.asIntN(64, raw.value)) : 0;
        break;
      case 'time': {
        const seconds = fields(bytes).find((f) => f.field === 1)?.value;
        const s64 = typeof seconds === 'bigint' ? Number(BigInt.asIntN(64, seconds)) : 0;
        value = s64 > 0 ? new Date(s64 * 1000).toISOString().replace('.000Z', 'Z') : null;
        break;
      }
      case 'message':
        value = decodeMessage(bytes, field.message);
        break;
      case 'map': {
        const entry = fields(bytes);
        const key = entry.find((f) => f.field === 1)?.value;
        const val = entry.find((f) => f.field === 2)?.value;
        const keyText = key instanceof Buffer ? key.toString('utf8') : '';
        const valBytes = val instanceof Buffer ? val : Buffer.alloc(0);
        const map = (out[field.name] as JsonObject | undefined) ?? {};
        map[keyText] =
          field.value === 'string' ? valBytes.toString('utf8') : field.value === 'bytes' ? valBytes.toString('base64') : ((fields(valBytes).find((f) => f.field === 1)?.value as Buffer | undefined)?.toString('utf8') ?? '0');
        out[field.name] = map;
        continue;
      }
    }
    // Go's zero strings are "unset" (JSON omitempty); protobuf still carries them.
    if (value === undefined || (value === '' && !field.repeated)) continue;
    if (field.repeated) out[field.name] = [...((out[field.name] as JsonValue[] | undefined) ?? []), value];
    else out[field.name] = value;
  }
  return out;
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** Decodes a `k8s\0`-prefixed runtime.Unknown envelope into the JSON form of the object. */
export function decodeKubernetesProtobuf(body: Buffer): JsonObject {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw new UnsupportedProtobufError('not a Kubernetes protobuf message');
  const envelope = fields(body.subarray(4));
  const typeMeta = envelope.find((f) => f.field === 1)?.value;
  const raw = envelope.find((f) => f.field === 2)?.value;
  if (!(typeMeta instanceof Buffer) || !(raw instanceof Buffer)) throw new UnsupportedProtobufError('protobuf envelope without type or object');
  const meta = decodeMessage(typeMeta, { 1: s('apiVersion'), 2: s('kind') });
  const apiVersion = String(meta['apiVersion'] ?? '');
  const kind = String(meta['kind'] ?? '');
  const schema = KINDS[`${apiVersion}/${kind}`];
  if (!schema) throw new UnsupportedProtobufError(`the simulator decodes protobuf only for ${Object.keys(KINDS).join(', ')}; send ${kind || 'this object'} as JSON (kubectl apply -f / create -f)`);
  return { apiVersion, kind, ...decodeMessage(raw, schema) };
}
