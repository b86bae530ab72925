import type { EventLog } from '@canopy/eventstore';
import type { ClusterPricing } from '@canopy/cost';
import { CanopyError, ErrorCode, isCanopyError, pricingStream } from '@canopy/schema';
import type { CommandContext } from '@canopy/workspaces';
import { authorizePricing, type ClusterDirectory } from '../domain/cluster-access.js';
import {
  clusterIdOf,
  decideIdleSharing,
  decidePriceBook,
  emptyPricing,
  evolvePricing,
  pricingView,
  type IdleSharingInput,
  type PriceBookInput,
  type PricingEvent,
  type PricingState,
} from '../domain/pricing.js';

/** How often a command is decided again when another writer appended to the stream first. */
const ATTEMPTS = 8;

export interface PricingResult {
  clusterId: string;
  /** false: the same setting was there already, and nothing was appended. */
  changed: boolean;
  /** The log position of the append; undefined when nothing was appended. */
  position: bigint | undefined;
  /** The cluster's settings after the command, from its stream. */
  pricing: ClusterPricing;
}

export interface CostCommandsOptions {
  log: EventLog;
  /** The workspaces service's directory: which workspaces have which clusters attached, and who owns them. */
  workspaces: ClusterDirectory;
  /** The current hour is judged by it (see `effectiveFromOf`). */
  clock?: () => Date;
}

/**
 * Price books and idle sharing of a cluster, on `pricing-{clusterId}`.
 * Each command reads the stream (a handful of events), decides, and appends
 * expecting the revision it read; when another writer appended first it
 * reads and decides again, so of two concurrent settings neither is lost
 * (the later in the log wins where they share an effective time).
 */
export class CostCommands {
  private readonly log: EventLog;
  private readonly workspaces: ClusterDirectory;
  private readonly clock: () => Date;

  constructor(options: CostCommandsOptions) {
    this.log = options.log;
    this.workspaces = options.workspaces;
    this.clock = options.clock ?? (() => new Date());
  }

  async setPriceBook(context: CommandContext, input: PriceBookInput): Promise<PricingResult> {
    const clusterId = this.authorized(context, input.clusterId);
    return this.run(context, clusterId, (state) => decidePriceBook(state, input, this.clock()));
  }

  async setIdleSharing(context: CommandContext, input: IdleSharingInput): Promise<PricingResult> {
    const clusterId = this.authorized(context, input.clusterId);
    return this.run(context, clusterId, (state) => decideIdleSharing(state, input, this.clock()));
  }

  /** The cluster's settings as its stream has them, whoever asks (callers check access). */
  async pricing(clusterId: string): Promise<ClusterPricing> {
    return pricingView(await this.load(clusterId));
  }

  private authorized(context: CommandContext, clusterId: unknown): string {
    const id = clusterIdOf(clusterId);
    authorizePricing(this.workspaces, id, context.userId);
    return id;
  }

  private async run(context: CommandContext, clusterId: string, decide: (state: PricingState) => PricingEvent[]): Promise<PricingResult> {
    const stream = pricingStream(clusterId);
    for (let attempt = 1; ; attempt++) {
      const state = await this.load(clusterId);
      const events = decide(state);
      if (events.length === 0) return { clusterId, changed: false, position: undefined, pricing: pricingView(state) };
      try {
        const appended = await this.log.append(stream, events, {
          expectedRevision: state.revision ?? 'no_stream',
          context: { actor: context.userId, ...(context.correlationId === undefined ? {} : { correlationId: context.correlationId }) },
        });
        const after = events.reduce((folded, event, index) => evolvePricing(folded, event, appended.nextExpectedRevision - BigInt(events.length - 1 - index)), state);
        return { clusterId, changed: true, position: appended.position, pricing: pricingView(after) };
      } catch (error) {
        if (!isCanopyError(error, ErrorCode.WRONG_EXPECTED_VERSION)) throw error;
        if (attempt >= ATTEMPTS) throw new CanopyError(ErrorCode.CONFLICT, `The settings of cluster ${clusterId} are changing too fast to apply this change; try again.`, { clusterId });
      }
    }
  }

  private async load(clusterId: string): Promise<PricingState> {
    let state = emptyPricing(clusterId);
    for await (const event of this.log.readStream(pricingStream(clusterId))) {
      if (event.type === 'PriceBookSet' || event.type === 'IdleSharingSet') state = evolvePricing(state, { type: event.type, data: event.data } as PricingEvent, event.revision);
    }
    return state;
  }
}
