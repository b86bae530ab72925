import type { JsonObject } from './json.js';

/** `details` of a Kubernetes Status: which object, and the causes (field errors, SSA conflicts). */
export type StatusDetails = {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: { reason?: string; message?: string; field?: string }[];
  retryAfterSeconds?: number;
};

/**
 * A failure the API server reports as a `Status` object (kind Status,
 * apiVersion v1, status Failure) with the HTTP code in `code`. Every error
 * of the simulator's API is one of these, as on a real server.
 */
export class KubeStatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'KubeStatusError';
  }

  toStatus(): JsonObject {
    const status: JsonObject = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) status['details'] = JSON.parse(JSON.stringify(this.details)) as JsonObject;
    return status;
  }
}

/** What a resource is called in messages: `deployments.apps` or `pods`. */
export type ResourceRef = { group: string; plural: string };

function qualified(ref: ResourceRef): string {
  return ref.group ? `${ref.plural}.${ref.group}` : ref.plural;
}

export function notFound(ref: ResourceRef, name: string): KubeStatusError {
  return new KubeStatusError(404, 'NotFound', `${qualified(ref)} "${name}" not found`, {
    name,
    group: ref.group,
    kind: ref.plural,
  });
}

export function alreadyExists(ref: ResourceRef, name: string): KubeStatusError {
  return new KubeStatusError(409, 'AlreadyExists', `${qualified(ref)} "${name}" already exists`, {
    name,
    group: ref.group,
    kind: ref.plural,
  });
}

export function conflict(ref: ResourceRef, name: string, why: string): KubeStatusError {
  return new KubeStatusError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(ref)} "${name}": ${why}`,
    { name, group: ref.group, kind: ref.plural },
  );
}

export type FieldCause = { field: string; message: string; reason?: string };

export function invalid(kind: string, group: string, name: string, causes: FieldCause[]): KubeStatusError {
  const list = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
  const message = `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${causes.length > 1 ? `[${list}]` : list}`;
  return new KubeStatusError(422, 'Invalid', message, {
    name,
    group,
    kind,
    causes: causes.map((c) => ({ reason: c.reason ?? 'FieldValueInvalid', message: c.message, field: c.field })),
  });
}

export function badRequest(message: string): KubeStatusError {
  return new KubeStatusError(400, 'BadRequest', message);
}

export function methodNotAllowed(message: string): KubeStatusError {
  return new KubeStatusError(405, 'MethodNotAllowed', message);
}

export function unsupportedMediaType(contentType: string): KubeStatusError {
  return new KubeStatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got ${contentType || 'none'})`);
}

export function gone(message: string): KubeStatusError {
  return new KubeStatusError(410, 'Expired', message);
}

export function forbidden(ref: ResourceRef, name: string, why: string): KubeStatusError {
  return new KubeStatusError(403, 'Forbidden', `${qualified(ref)} "${name}" is forbidden: ${why}`, {
    name,
    group: ref.group,
    kind: ref.plural,
  });
}

export function unauthorized(): KubeStatusError {
  return new KubeStatusError(401, 'Unauthorized', 'Unauthorized');
}

export function notFoundPath(path: string): KubeStatusError {
  return new KubeStatusError(404, 'NotFound', `the server could not find the requested resource (${path})`);
}

export function serviceUnavailable(message: string): KubeStatusError {
  return new KubeStatusError(503, 'ServiceUnavailable', message, { retryAfterSeconds: 1 });
}

export function internalError(message: string): KubeStatusError {
  return new KubeStatusError(500, 'InternalError', `Internal error occurred: ${message}`);
}
