import { createHash } from 'node:crypto';
import type { JsonObject } from '../json.js';
import { ALL_VERBS, apiVersionOf, type ResourceRegistry, type ResourceType } from '../resources.js';

/** The Kubernetes version the simulator reports (the minor kubectl 1.32 expects, so no skew warning). */
export const SIMULATED_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-canopy-simulator' };

export function versionInfo(): JsonObject {
  return {
    ...SIMULATED_VERSION,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: 'none (simulated)',
    compiler: 'none',
    platform: 'linux/amd64',
  };
}

export function coreVersions(serverAddress: string): JsonObject {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function apiGroup(name: string, versions: string[]): JsonObject {
  const list = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { kind: 'APIGroup', apiVersion: 'v1', name, versions: list, preferredVersion: list[0]! };
}

/** `/apis`: the legacy (unaggregated) group list; kubectl falls back to it when aggregated discovery is not offered. */
export function groupList(registry: ResourceRegistry): JsonObject {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: registry
      .groups()
      .filter((g) => g.group !== '')
      .map((g) => apiGroup(g.group, g.versions)),
  };
}

export function groupInfo(registry: ResourceRegistry, group: string): JsonObject | undefined {
  const found = registry.groups().find((g) => g.group === group);
  return found && group ? apiGroup(group, found.versions) : undefined;
}

function storageVersionHash(type: ResourceType): string {
  return createHash('sha256').update(`${apiVersionOf(type)}/${type.kind}`).digest('base64').slice(0, 11);
}

export function resourceList(registry: ResourceRegistry, group: string, version: string): JsonObject | undefined {
  const types = registry.inGroupVersion(group, version);
  if (types.length === 0) return undefined;
  const resources: JsonObject[] = [];
  for (const type of types) {
    const entry: JsonObject = {
      name: type.plural,
      singularName: type.singular,
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: type.verbs ?? ALL_VERBS,
      storageVersionHash: storageVersionHash(type),
    };
    if (type.shortNames) entry['shortNames'] = type.shortNames;
    if (type.categories) entry['categories'] = type.categories;
    resources.push(entry);
    if (type.status) {
      resources.push({ name: `${type.plural}/status`, singularName: '', namespaced: type.namespaced, kind: type.kind, verbs: ['get', 'patch', 'update'] });
    }
    if (type.scale) {
      resources.push({ name: `${type.plural}/scale`, singularName: '', namespaced: type.namespaced, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf({ group, version }), resources };
}

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

/**
 * `/openapi/v3`: one document per group-version. The documents describe
 * only the PATCH operations (which parameters and patch types each kind
 * takes), not the schemas: enough for kubectl to see that the server does
 * field validation itself (so `kubectl apply` needs no client-side schema)
 * and to compute client-side apply patches from its built-in types.
 */
export function openApiV3Root(registry: ResourceRegistry): JsonObject {
  const paths: JsonObject = {};
  for (const { group, versions } of registry.groups()) {
    for (const version of versions) {
      const doc = openApiV3Document(registry, group, version)!;
      const hash = createHash('sha256').update(JSON.stringify(doc)).digest('hex').slice(0, 32).toUpperCase();
      paths[gvPath(group, version)] = { serverRelativeURL: `/openapi/v3/${gvPath(group, version)}?hash=${hash}` };
    }
  }
  return { paths };
}

export function openApiV3Document(registry: ResourceRegistry, group: string, version: string): JsonObject | undefined {
  const types = registry.inGroupVersion(group, version);
  if (types.length === 0) return undefined;
  const paths: JsonObject = {};
  const query = (name: string, description: string) => ({ name, in: 'query', description, schema: { type: 'string', uniqueItems: true } });
  for (const type of types) {
    const prefix = `/${gvPath(group, version)}${type.namespaced ? '/namespaces/{namespace}' : ''}/${type.plural}/{name}`;
    const gvk = { group, version, kind: type.kind };
    const body = { schema: { type: 'object' } };
    paths[prefix] = {
      patch: {
        description: `partially update the specified ${type.kind}`,
        operationId: `patch${type.kind}`,
        parameters: [
          query('dryRun', 'When present, indicates that modifications should not be persisted.'),
          query('fieldManager', 'fieldManager is a name associated with the actor or entity that is making these changes.'),
          query('fieldValidation', 'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields.'),
          { name: 'force', in: 'query', description: 'Force is going to "force" Apply requests.', schema: { type: 'boolean', uniqueItems: true } },
        ],
        requestBody: {
          content: {
            'application/apply-patch+yaml': body,
            'application/json-patch+json': body,
            'application/merge-patch+json': body,
            'application/strategic-merge-patch+json': body,
          },
          required: true,
        },
        responses: { '200': { description: 'OK' } },
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': gvk,
      },
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes (Canopy cluster simulator)', version: SIMULATED_VERSION.gitVersion }, paths, components: { schemas: {} } };
}
