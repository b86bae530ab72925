import { DEFAULT_PRICE_BOOK, nanosToPrice } from '@canopy/cost';
import { Arg, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import type { PricingResult } from '../app/commands.js';
import type { CostContext } from './context.js';
import { IdleSharingInput, PriceBookInput } from './inputs.js';
import { CostPriceBook, PricingChange } from './types.js';

/** Price books and idle sharing of a cluster: owners of an organization that has it attached to one of its workspaces. */
@Resolver()
export class PricingResolver {
  @Query(() => CostPriceBook, { description: 'The prices a cluster has before any price book is set (OpenCost\'s defaults).' })
  defaultPriceBook(): CostPriceBook {
    const { currency, cpuCoreHour, memoryGiBHour, gpuHour } = DEFAULT_PRICE_BOOK;
    return { effectiveFrom: null, currency, cpuCoreHour: nanosToPrice(cpuCoreHour), memoryGiBHour: nanosToPrice(memoryGiBHour), gpuHour: gpuHour === 0n ? null : nanosToPrice(gpuHour) };
  }

  @Mutation(() => PricingChange, {
    description: "Sets a cluster's price book from effectiveFrom on: organization owners of a workspace the cluster is attached to. Usage already costed keeps its prices.",
  })
  async setPriceBook(@Arg('input', () => PriceBookInput) input: PriceBookInput, @Ctx() context: CostContext): Promise<PricingChange> {
    return answer(context, await context.commands.setPriceBook(commandContext(context), { ...input }));
  }

  @Mutation(() => PricingChange, { description: "Sets whether a cluster's idle cost is shared out to its workloads from effectiveFrom on: as setPriceBook." })
  async setIdleSharing(@Arg('input', () => IdleSharingInput) input: IdleSharingInput, @Ctx() context: CostContext): Promise<PricingChange> {
    return answer(context, await context.commands.setIdleSharing(commandContext(context), { ...input }));
  }
}

function commandContext(context: CostContext) {
  return { userId: context.caller.userId, ...(context.correlationId === undefined ? {} : { correlationId: context.correlationId }) };
}

/** The caller's later reads wait until the read models reflect the change (read-your-writes). */
function answer(context: CostContext, result: PricingResult): PricingChange {
  context.consistency?.wrote(context.caller.userId, result.position);
  return { clusterId: result.clusterId, changed: result.changed, position: result.position?.toString() ?? null, pricing: result.pricing };
}
