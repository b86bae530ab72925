/**
 * The four measurements, identical for every subject:
 * 1. single appends: sequential 1-event appends, each with the stream's exact expected revision;
 * 2. batch appends: sequential 100-event appends, likewise;
 * 3. read-all: the whole log (exactly SIZES.logEvents events) read forwards;
 * 4. catch-up: a subscription from the start of the log until it reports caught up.
 * Before 3 and 4 the log is topped up (untimed) to exactly SIZES.logEvents events.
 */
import { SIZES } from './config.js';
import { repeat, timed, type Figure } from './measure.js';
import type { BenchTarget } from './target.js';
import { benchEvent, benchEvents } from './workload.js';

export type ScenarioId = 'single' | 'batch' | 'readAll' | 'catchUp';
export type Figures = Partial<Record<ScenarioId, Figure>>;

type Log = (line: string) => void;

/** Appends to streams in rotation, tracking each stream's size so every append states its exact expected revision. */
class Writer {
  private readonly sizes = new Map<string, number>();
  written = 0;

  constructor(private readonly target: BenchTarget) {}

  async append(stream: string, count: number): Promise<void> {
    const before = this.sizes.get(stream) ?? 0;
    const events = count === 1 ? [benchEvent(this.written)] : benchEvents(this.written, count);
    await this.target.append(stream, events, before);
    this.sizes.set(stream, before + count);
    this.written += count;
  }
}

export async function runScenarios(target: BenchTarget, log: Log): Promise<Figures> {
  const writer = new Writer(target);
  const figures: Figures = {};

  const singles = async (label: string, n: number) => {
    for (let i = 0; i < n; i++) await writer.append(`single-${label}-${i % SIZES.singleStreams}`, 1);
    return n;
  };
  await singles('warmup', SIZES.singleWarmup);
  figures.single = await repeat(SIZES.runs, (run) => timed(() => singles(`run${run}`, SIZES.singleAppends)));
  log(`single appends/s ${fmt(figures.single)}`);

  const batches = async (label: string, n: number) => {
    for (let i = 0; i < n; i++) await writer.append(`batch-${label}-${i % SIZES.batchStreams}`, SIZES.batchSize);
    return n * SIZES.batchSize;
  };
  await batches('warmup', SIZES.batchWarmup);
  figures.batch = await repeat(SIZES.runs, (run) => timed(() => batches(`run${run}`, SIZES.batchesPerRun)));
  log(`batch appends, events/s ${fmt(figures.batch)}`);

  const missing = SIZES.logEvents - writer.written;
  if (missing < 0) throw new Error(`The append scenarios wrote ${writer.written} events, more than the ${SIZES.logEvents} the reads expect.`);
  for (let i = 0; missing - i * SIZES.fillBatchSize > 0; i++) {
    await writer.append(`fill-${i % SIZES.singleStreams}`, Math.min(SIZES.fillBatchSize, missing - i * SIZES.fillBatchSize));
  }
  log(`log filled to ${writer.written} events`);

  await target.readAll(SIZES.readWarmup);
  figures.readAll = await repeat(SIZES.runs, () => timed(() => target.readAll().then(expectLog)));
  log(`read-all events/s ${fmt(figures.readAll)}`);

  await target.readAll(SIZES.readWarmup);
  figures.catchUp = await repeat(SIZES.runs, () => timed(() => target.catchUp(SIZES.logEvents).then(expectLog)));
  log(`catch-up events/s ${fmt(figures.catchUp)}`);
  return figures;
}

function expectLog(count: number): number {
  if (count !== SIZES.logEvents) throw new Error(`Read ${count} events, expected the whole log of ${SIZES.logEvents}.`);
  return count;
}

function fmt(figure: Figure): string {
  return `${Math.round(figure.median)} (runs: ${figure.runs.map((r) => Math.round(r)).join(', ')})`;
}
