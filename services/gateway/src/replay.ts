import { PROJECTORS } from './read-models.js';
import type { EventStore } from '@canopy/eventstore';
import { ProjectionRunner, type ProjectionChecksum, type ReadModelDb, type RebuildProgress } from '@canopy/projections';

export interface ReplayOutcome {
  name: string;
  version: number;
  /** Checksum of the live (checkpointed) tables, caught up to the head first. */
  live: ProjectionChecksum;
  /** Checksum of the same tables rebuilt from zero. */
  rebuilt: ProjectionChecksum;
  events: number;
  eventsPerSecond: number;
  matches: boolean;
}

/**
 * `canopy replay`: brings the live read models up to the log's head from
 * their checkpoints, takes their checksums, rebuilds them from zero (in
 * place), and compares: a read model whose projector applies events
 * incrementally exactly as a rebuild does gives equal checksums.
 */
export async function replay(
  store: EventStore,
  db: ReadModelDb,
  options: { name?: string | undefined; onStart?(name: string, head: bigint): void; onProgress?(progress: RebuildProgress): void },
): Promise<ReplayOutcome[]> {
  const runner = new ProjectionRunner({ store, db, projectors: [...PROJECTORS] });
  const names = options.name === undefined ? runner.names : [options.name];
  for (const name of names) if (!runner.names.includes(name)) throw new UnknownProjection(name, runner.names);
  await runner.start();
  try {
    const head = (await store.headPosition()) ?? 0n;
    if (!(await runner.waitFor(names, head, 10 * 60_000))) throw new Error(`The live read models did not reach the log's head (${head}); see their health: ${JSON.stringify(await runner.health(), bigints)}`);
    const outcomes: ReplayOutcome[] = [];
    for (const name of names) {
      const live = await runner.checksum(name);
      options.onStart?.(name, head);
      const [result] = await runner.rebuild(name, { onProgress: options.onProgress });
      const rebuilt = await runner.checksum(name);
      outcomes.push({
        name,
        version: rebuilt.version,
        live,
        rebuilt,
        events: result!.events,
        eventsPerSecond: result!.eventsPerSecond,
        matches: live.checksum === rebuilt.checksum && live.position === rebuilt.position,
      });
    }
    return outcomes;
  } finally {
    await runner.stop();
  }
}

export class UnknownProjection extends Error {
  override name = 'UnknownProjection';
  constructor(name: string, known: readonly string[]) {
    super(`No projection is called "${name}"; known: ${known.join(', ')}.`);
  }
}

function bigints(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
