import { getPath, type JsonObject } from './json.js';

export type FieldRequirement = { field: string; op: '=' | '!='; value: string };

export class FieldSelectorError extends Error {}

/** Fields each kind can be selected on, beyond metadata.name and metadata.namespace (as on a real server). */
const FIELDS: Record<string, Record<string, (obj: JsonObject) => string>> = {
  Pod: {
    'spec.nodeName': (o) => str(getPath(o, 'spec.nodeName')),
    'spec.restartPolicy': (o) => str(getPath(o, 'spec.restartPolicy')),
    'spec.schedulerName': (o) => str(getPath(o, 'spec.schedulerName')),
    'spec.serviceAccountName': (o) => str(getPath(o, 'spec.serviceAccountName')),
    'spec.hostNetwork': (o) => String(getPath(o, 'spec.hostNetwork') === true),
    'status.phase': (o) => str(getPath(o, 'status.phase')),
    'status.podIP': (o) => str(getPath(o, 'status.podIP')),
    'status.nominatedNodeName': (o) => str(getPath(o, 'status.nominatedNodeName')),
  },
  Event: {
    'involvedObject.kind': (o) => str(getPath(o, 'involvedObject.kind')),
    'involvedObject.namespace': (o) => str(getPath(o, 'involvedObject.namespace')),
    'involvedObject.name': (o) => str(getPath(o, 'involvedObject.name')),
    'involvedObject.uid': (o) => str(getPath(o, 'involvedObject.uid')),
    'involvedObject.apiVersion': (o) => str(getPath(o, 'involvedObject.apiVersion')),
    'involvedObject.resourceVersion': (o) => str(getPath(o, 'involvedObject.resourceVersion')),
    'involvedObject.fieldPath': (o) => str(getPath(o, 'involvedObject.fieldPath')),
    reason: (o) => str(o['reason']),
    reportingComponent: (o) => str(o['reportingComponent']),
    source: (o) => str(getPath(o, 'source.component')),
    type: (o) => str(o['type']),
  },
  Secret: { type: (o) => str(o['type']) },
  Namespace: { 'status.phase': (o) => str(getPath(o, 'status.phase')) },
  Node: { 'spec.unschedulable': (o) => String(getPath(o, 'spec.unschedulable') === true) },
  ReplicaSet: { 'status.replicas': (o) => String(getPath(o, 'status.replicas') ?? 0) },
  Job: { 'status.successful': (o) => String(getPath(o, 'status.succeeded') ?? 0) },
};

function str(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
}

function fieldValue(kind: string, obj: JsonObject, field: string): string | undefined {
  if (field === 'metadata.name') return str(getPath(obj, 'metadata.name'));
  if (field === 'metadata.namespace') return str(getPath(obj, 'metadata.namespace'));
  return FIELDS[kind]?.[field]?.(obj);
}

/** Splits on unescaped commas; `\,`, `\=` and `\\` are escapes, as in the API server. */
function splitTerms(input: string): string[] {
  const terms: string[] = [];
  let current = '';
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (c === '\\' && i + 1 < input.length) {
      current += c + input[++i];
    } else if (c === ',') {
      terms.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  terms.push(current);
  return terms.filter((t) => t.trim() !== '');
}

function unescape(value: string): string {
  return value.replace(/\\(.)/g, '$1');
}

/** Parses `metadata.name=web,status.phase!=Running` and checks every field is selectable for `kind`. */
export function parseFieldSelector(input: string, kind: string): FieldRequirement[] {
  return splitTerms(input).map((term) => {
    const match = /^([^=!]+?)\s*(==|!=|=)\s*(.*)$/.exec(term.trim());
    if (!match) throw new FieldSelectorError(`invalid selector: '${input}'; can't understand '${term}'`);
    const field = match[1]!;
    if (fieldValue(kind, {}, field) === undefined) {
      throw new FieldSelectorError(`field label not supported: ${field}`);
    }
    return { field, op: match[2] === '!=' ? '!=' : '=', value: unescape(match[3]!) };
  });
}

export function matchesFields(requirements: readonly FieldRequirement[], kind: string, obj: JsonObject): boolean {
  return requirements.every((r) => {
    const value = fieldValue(kind, obj, r.field);
    return r.op === '=' ? value === r.value : value !== r.value;
  });
}
