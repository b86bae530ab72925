import { isObject, type JsonObject } from '../json.js';
import { badRequest } from '../status.js';

/** Simulated containers print nothing of their own: the log says what the simulator did with the container. */
export function podLog(pod: JsonObject, container: string | undefined): string {
  const metadata = pod['metadata'] as JsonObject;
  const spec = isObject(pod['spec']) ? pod['spec'] : {};
  const containers = (Array.isArray(spec['containers']) ? spec['containers'] : []).filter(isObject);
  const name = container ?? (containers.length === 1 ? String(containers[0]!['name']) : undefined);
  if (!name) {
    throw badRequest(`a container name must be specified for pod ${String(metadata['name'])}, choose one of: [${containers.map((c) => String(c['name'])).join(' ')}]`);
  }
  const declared = containers.find((c) => c['name'] === name);
  if (!declared) throw badRequest(`container ${name} is not valid for pod ${String(metadata['name'])}`);
  const statuses = isObject(pod['status']) && Array.isArray(pod['status']['containerStatuses']) ? pod['status']['containerStatuses'].filter(isObject) : [];
  const status = statuses.find((s) => s['name'] === name);
  const state = status?.['state'];
  const hasRun = isObject(status?.['lastState']) && isObject((status['lastState'] as JsonObject)['terminated']);
  if (!isObject(state) || (isObject(state['waiting']) && !hasRun)) {
    const reason = isObject(state) && isObject(state['waiting']) ? String(state['waiting']['reason'] ?? 'ContainerCreating') : 'ContainerCreating';
    throw badRequest(`container "${name}" in pod "${String(metadata['name'])}" is waiting to start: ${reason}`);
  }
  const started = isObject(state['running']) ? state['running']['startedAt'] : isObject(state['terminated']) ? state['terminated']['startedAt'] : undefined;
  const lines = [`${String(started ?? '')} [canopy cluster simulator] container ${name} (image ${String(declared['image'])}) started; simulated containers produce no output`];
  if (isObject(state['terminated'])) lines.push(`${String(state['terminated']['finishedAt'] ?? '')} [canopy cluster simulator] container ${name} exited with code ${String(state['terminated']['exitCode'] ?? 0)}`);
  if (isObject(state['waiting'])) lines.push(`[canopy cluster simulator] container ${name} crashed (exit code 1) and is restarting: ${String(state['waiting']['reason'])}`);
  return `${lines.join('\n')}\n`;
}
