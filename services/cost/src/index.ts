export { CostCommands, type CostCommandsOptions, type PricingResult } from './app/commands.js';
export { authorizePricing, type ClusterDirectory } from './domain/cluster-access.js';
export { decideIdleSharing, decidePriceBook, effectiveFromOf, type IdleSharingInput, type PriceBookInput, type PricingState } from './domain/pricing.js';
export type { CostContext, CostReads } from './graphql/context.js';
export { costReads, type CostReadSource } from './graphql/reads.js';
export { buildCostSchema, buildCostSubgraph, COST_SUBGRAPH } from './graphql/schema.js';
