import { composeServices } from '@apollo/composition';
import { parse, printSchema } from 'graphql';

/** One subgraph as a router sees it: its name, where it answers, and its SDL with federation directives. */
export interface SubgraphDefinition {
  name: string;
  url: string;
  sdl: string;
}

export interface ComposedSchema {
  /** The supergraph (join and link directives included): what a Federation 2 router loads. */
  supergraphSdl: string;
  /** The schema clients see: the supergraph without federation internals (`_entities`, `_service`, `join__*`, `link__*`). */
  apiSdl: string;
}

export class CompositionError extends Error {
  override name = 'CompositionError';
}

/** Composes subgraphs with Apollo's composition (the same rules every Federation 2 router applies); a conflict throws, naming it. */
export function composeSupergraph(subgraphs: readonly SubgraphDefinition[]): ComposedSchema {
  const result = composeServices(subgraphs.map((subgraph) => ({ name: subgraph.name, url: subgraph.url, typeDefs: parse(subgraph.sdl) })));
  if (result.errors) {
    throw new CompositionError(`The subgraphs do not compose:\n  ${result.errors.map((error) => error.message).join('\n  ')}`);
  }
  return { supergraphSdl: result.supergraphSdl, apiSdl: printSchema(result.schema.toAPISchema().toGraphQLJSSchema()) };
}
