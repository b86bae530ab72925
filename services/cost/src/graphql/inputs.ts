import { Field, ID, InputType } from 'type-graphql';

const EFFECTIVE_FROM = 'An ISO 8601 instant in whole seconds (2026-03-01T00:00:00Z), not before the start of the current UTC hour: usage already costed keeps its prices.';
const PRICE = 'Currency units per unit-hour as a decimal string, at most nine decimals ("0.031611"), from 0 to 1,000,000.';

@InputType({ description: "A cluster's prices from `effectiveFrom` on; setting one at the same `effectiveFrom` replaces it." })
export class PriceBookInput {
  @Field(() => ID) clusterId!: string;
  @Field({ description: EFFECTIVE_FROM }) effectiveFrom!: string;
  @Field({ description: 'ISO 4217, e.g. USD. Amounts in different currencies are never added.' }) currency!: string;
  @Field({ description: `Per core-hour. ${PRICE}` }) cpuCoreHour!: string;
  @Field({ description: `Per GiB-hour. ${PRICE}` }) memoryGiBHour!: string;
  @Field(() => String, { nullable: true, description: `Per GPU-hour. ${PRICE} Absent or null: GPUs cost nothing on this cluster from then on.` }) gpuHour?: string | null;
}

@InputType({ description: "Whether a cluster's idle cost is shared out to its workloads (in proportion to their allocation) from `effectiveFrom` on." })
export class IdleSharingInput {
  @Field(() => ID) clusterId!: string;
  @Field({ description: EFFECTIVE_FROM }) effectiveFrom!: string;
  @Field() shared!: boolean;
}
