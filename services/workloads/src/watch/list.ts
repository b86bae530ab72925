import http from 'node:http';
import https from 'node:https';
import type { ClusterConnection } from '@canopy/kube';
import type { KubeObject } from '../status/status-of.js';

/** An HTTP error answer of the API server: its status code and the Status message (never the request's credentials). */
export class KubeRequestError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'KubeRequestError';
  }
}

export interface Listed {
  items: KubeObject[];
  resourceVersion: string;
}

const PAGE = 500;

/**
 * Lists a collection as the API server serves it (plain JSON, pages of 500
 * followed with `continue`), authenticated as client-node authenticates
 * (the connection's kubeconfig: CA, client certificate, token).
 */
export async function listAll(connection: ClusterConnection, path: string, signal: AbortSignal): Promise<Listed> {
  const items: KubeObject[] = [];
  let token: string | undefined;
  let resourceVersion = '';
  do {
    const url = new URL(connection.server.replace(/\/$/, '') + path);
    url.searchParams.set('limit', String(PAGE));
    if (token) url.searchParams.set('continue', token);
    const page = (await getJson(connection, url, signal)) as { items?: KubeObject[]; metadata?: { resourceVersion?: string; continue?: string } };
    for (const item of page.items ?? []) items.push(item);
    resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    token = page.metadata?.continue || undefined;
  } while (token);
  return { items, resourceVersion };
}

async function getJson(connection: ClusterConnection, url: URL, signal: AbortSignal): Promise<unknown> {
  const options: https.RequestOptions = {};
  await connection.kubeConfig.applyToHTTPSOptions(options);
  const send = url.protocol === 'http:' ? http.request : https.request;
  return new Promise((resolve, reject) => {
    const request = send(url, { ...options, method: 'GET', headers: { ...options.headers, accept: 'application/json' }, signal }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = response.statusCode ?? 0;
        if (status !== 200) {
          reject(new KubeRequestError(status, `${url.pathname}: HTTP ${status}${statusMessage(text)}`));
          return;
        }
        try {
          resolve(JSON.parse(text));
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
    });
    request.on('error', reject);
    request.end();
  });
}

function statusMessage(text: string): string {
  try {
    const message = (JSON.parse(text) as { message?: unknown }).message;
    return typeof message === 'string' ? `: ${message.slice(0, 300)}` : '';
  } catch {
    return '';
  }
}
