import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isObject, type JsonObject, type JsonValue } from './json.js';

/** One cluster of a kubeconfig: a cluster, a user and a context, all named `name`. */
export type KubeconfigEntry = { name: string; server: string; token?: string; namespace?: string; /** PEM of the certificate authority the server's certificate chains to. */ caPem?: string };

/**
 * A kubeconfig with a context per entry, current context the first one
 * (or `currentContext`). Plain-HTTP servers are marked
 * `insecure-skip-tls-verify`, which client-node requires before it talks
 * HTTP at all (there is no TLS to verify; note that kubectl sends no
 * credentials over plain HTTP).
 */
export function kubeconfigObject(entries: readonly KubeconfigEntry[], currentContext?: string): JsonObject {
  if (entries.length === 0) throw new Error('a kubeconfig needs at least one cluster');
  return {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    'current-context': currentContext ?? entries[0]!.name,
    clusters: entries.map((e) => ({
      name: e.name,
      cluster: {
        server: e.server,
        ...(e.caPem ? { 'certificate-authority-data': Buffer.from(e.caPem).toString('base64') } : {}),
        ...(e.server.startsWith('http:') ? { 'insecure-skip-tls-verify': true } : {}),
      },
    })),
    contexts: entries.map((e) => ({ name: e.name, context: { cluster: e.name, user: e.name, namespace: e.namespace ?? 'default' } })),
    users: entries.map((e): JsonObject => ({ name: e.name, user: e.token ? { token: e.token } : {} })),
  };
}

export function kubeconfigYaml(entries: readonly KubeconfigEntry[], currentContext?: string): string {
  return toYaml(kubeconfigObject(entries, currentContext));
}

/** Writes a kubeconfig (mode 0600: it holds bearer tokens), creating its directory. */
export async function writeKubeconfigFile(path: string, entries: readonly KubeconfigEntry[], currentContext?: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, kubeconfigYaml(entries, currentContext), { mode: 0o600 });
}

function scalar(value: JsonValue): string {
  if (typeof value === 'string') return /^[A-Za-z0-9_./:-]+$/.test(value) && !/^(true|false|null|yes|no|on|off|~|[-+]?[0-9.]+(e[0-9]+)?)$/i.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value);
}

function key(name: string): string {
  return /^[A-Za-z0-9_.-]+$/.test(name) ? name : JSON.stringify(name);
}

/** YAML for JSON values (block style; strings quoted when they could read as anything else). */
export function toYaml(value: JsonValue, indent = ''): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]\n';
    return value
      .map((item) => {
        if (isObject(item) && Object.keys(item).length > 0) {
          const body = toYaml(item, `${indent}  `);
          return `${indent}- ${body.slice(indent.length + 2)}`;
        }
        return `${indent}- ${isObject(item) ? '{}' : Array.isArray(item) ? JSON.stringify(item) : scalar(item)}\n`;
      })
      .join('');
  }
  if (isObject(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}\n';
    return entries
      .map(([k, v]) => {
        if (Array.isArray(v) && v.length > 0) return `${indent}${key(k)}:\n${toYaml(v, indent)}`;
        if (isObject(v) && Object.keys(v).length > 0) return `${indent}${key(k)}:\n${toYaml(v, `${indent}  `)}`;
        return `${indent}${key(k)}: ${Array.isArray(v) ? '[]' : isObject(v) ? '{}' : scalar(v)}\n`;
      })
      .join('');
  }
  return `${scalar(value)}\n`;
}
