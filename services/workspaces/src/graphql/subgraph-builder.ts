import 'reflect-metadata';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { getNullableType, isEnumType, isInputObjectType, isInterfaceType, isListType, isObjectType, parse, type GraphQLInputType, type GraphQLSchema } from 'graphql';
import { buildSchema, createResolversMap, type BuildSchemaOptions, type PubSub } from 'type-graphql';

type SubgraphResolvers = NonNullable<Extract<Parameters<typeof buildSubgraphSchema>[0], { typeDefs: unknown }>['resolvers']>;

/** The Federation version every Canopy subgraph links: 2.3 is understood by every Federation 2 router (Apollo Router and Gateway, Hive Gateway, Cosmo). */
export const FEDERATION_LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])';

/** type-graphql wants a PubSub once a resolver has a @Subscription, though Canopy's bring their own `subscribe` (the log's event feed) and use no topics. */
function noTopics(subgraph: string): PubSub {
  const refuse = () => {
    throw new Error(`The ${subgraph} subgraph publishes no topics: subscriptions follow the log.`);
  };
  return { publish: refuse, subscribe: refuse };
}

/** A subgraph's types and resolvers as type-graphql builds them (no federation). */
export function buildTypeGraphQLSchema(subgraph: string, options: Pick<BuildSchemaOptions, 'resolvers' | 'orphanedTypes'>): Promise<GraphQLSchema> {
  return buildSchema({ ...options, validate: false, pubSub: noTopics(subgraph) });
}

/**
 * An Apollo Federation 2 subgraph from a type-graphql schema: its SDL with
 * its directives (`@key`…) and the federation link, its resolvers, and the
 * entities' `__resolveReference` functions by type name; `_service` and
 * `_entities` come from `@apollo/subgraph`.
 */
export function federatedSubgraph(schema: GraphQLSchema, references: Record<string, object> = {}): GraphQLSchema {
  const resolvers: Record<string, object> = { ...createResolversMap(schema) };
  for (const [type, reference] of Object.entries(references)) resolvers[type] = { ...resolvers[type], ...reference };
  const subgraph = buildSubgraphSchema({ typeDefs: parse(`${FEDERATION_LINK}\n${printSchemaWithDirectives(schema)}`), resolvers: resolvers as SubgraphResolvers });
  internalEnumDefaults(subgraph);
  return subgraph;
}

/**
 * The SDL's default values were read while enum values were still their
 * names (`AUTO`); the resolvers then gave the enums their internal values
 * (`'auto'`). Defaults of arguments and input fields follow, so that an
 * omitted argument reaches the resolver as a given one would.
 */
function internalEnumDefaults(schema: GraphQLSchema): void {
  const fix = (holder: { type: GraphQLInputType; defaultValue?: unknown }) => {
    const type = getNullableType(holder.type);
    if (isEnumType(type) && typeof holder.defaultValue === 'string') {
      const value = type.getValue(holder.defaultValue);
      if (value) holder.defaultValue = value.value;
    } else if (isListType(type) && Array.isArray(holder.defaultValue)) {
      const item = getNullableType(type.ofType);
      if (isEnumType(item)) holder.defaultValue = holder.defaultValue.map((name: unknown) => (typeof name === 'string' ? (item.getValue(name)?.value ?? name) : name));
    }
  };
  for (const type of Object.values(schema.getTypeMap())) {
    if (isInputObjectType(type)) for (const field of Object.values(type.getFields())) fix(field);
    if (isObjectType(type) || isInterfaceType(type)) for (const field of Object.values(type.getFields())) for (const arg of field.args) fix(arg);
  }
}
