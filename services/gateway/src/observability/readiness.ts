import type { Logger } from 'pino';
import type { ProjectionHealth } from '@canopy/projections';

export interface ReadinessDeps {
  log: { headPosition(): Promise<bigint | undefined> };
  /** Runs a query on the read models' database. */
  readStore: { ping(): Promise<void> };
  projections: { health(): Promise<ProjectionHealth[]> };
  logger: Logger;
  /** How long each probe may take before it counts as not answering. */
  timeoutMs?: number;
}

export interface Readiness {
  status: 200 | 503;
  body: {
    status: 'ready' | 'not-ready';
    /** Why not, one sentence each (empty when ready). */
    reasons: string[];
    log: 'ok' | 'unavailable';
    readModels: 'ok' | 'unavailable';
    projections: { name: string; version: number; status: string; lag: string }[];
  };
}

const DEFAULT_TIMEOUT_MS = 2000;

/**
 * `/readyz`: 200 when this process can serve what its peers serve — the
 * log answers, the read models' database answers a query, and every
 * projector that queries read is live (caught up and following). A
 * projector stopped on a poison event does not make the process unready:
 * every process stops on the same event, so readiness could not route
 * around it; `/healthz` reports it. Probe errors are logged, not answered
 * (the endpoint is unauthenticated).
 */
export async function checkReadiness(deps: ReadinessDeps): Promise<Readiness> {
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const [log, readModels, health] = await Promise.all([
    probe('the event log', () => deps.log.headPosition(), timeoutMs, deps.logger),
    probe("the read models' database", () => deps.readStore.ping(), timeoutMs, deps.logger),
    deps.projections.health(),
  ]);
  const reasons: string[] = [];
  if (!log) reasons.push(`The event log did not answer within ${timeoutMs} ms.`);
  if (!readModels) reasons.push(`The read models' database did not answer within ${timeoutMs} ms.`);
  const active = health.filter((p) => p.active);
  for (const p of active) {
    if (p.status !== 'live' && p.status !== 'failed') reasons.push(`The ${p.name} projector is ${p.status} (${p.lag} log positions behind the head).`);
  }
  return {
    status: reasons.length === 0 ? 200 : 503,
    body: {
      status: reasons.length === 0 ? 'ready' : 'not-ready',
      reasons,
      log: log ? 'ok' : 'unavailable',
      readModels: readModels ? 'ok' : 'unavailable',
      projections: active.map((p) => ({ name: p.name, version: p.version, status: p.status, lag: p.lag.toString() })),
    },
  };
}

/** True when `check` settles successfully within `timeoutMs`. */
async function probe(what: string, check: () => Promise<unknown>, timeoutMs: number, logger: Logger): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([check(), timeout]);
    return true;
  } catch (error) {
    logger.warn({ err: error }, `readiness: ${what} does not answer`);
    return false;
  } finally {
    clearTimeout(timer);
  }
}
