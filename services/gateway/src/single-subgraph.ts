import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import {
  Kind,
  TypeInfo,
  execute,
  parse,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import type { RequestContext } from './request-context.js';

/** A subgraph running in this process: its schema, its SDL (which says which of its fields it only references), and its resolvers' context. */
export interface LocalSubgraph {
  name: string;
  schema: GraphQLSchema;
  sdl: string;
  contextOf(request: RequestContext): unknown;
}

/**
 * Wraps the federation gateway: an operation that one in-process subgraph
 * answers whole — every field it selects is that subgraph's own — is
 * executed on that subgraph's schema directly, with the request's context.
 * It is what the gateway would do for such an operation (its query plan is a
 * single fetch to that subgraph) without planning the fetch and reshaping
 * the subgraph's answer into the client's. Anything else (fields of
 * several subgraphs, remote subgraphs, introspection) goes through the
 * gateway. Apollo Server has validated the operation against the API
 * schema before either runs.
 */
export function withSingleSubgraphShortcut(gateway: GatewayInterface, subgraphs: readonly LocalSubgraph[]): GatewayInterface {
  const owners = subgraphs.map((subgraph) => ({ ...subgraph, referencedOnly: referencedOnlyFields(subgraph.sdl) }));
  const decisions = new WeakMap<DocumentNode, Map<string, LocalSubgraph | null>>();

  const ownerOf = (document: DocumentNode, operation: OperationDefinitionNode): LocalSubgraph | null => {
    let perOperation = decisions.get(document);
    if (!perOperation) decisions.set(document, (perOperation = new Map()));
    const key = operation.name?.value ?? '';
    let owner = perOperation.get(key);
    if (owner === undefined) {
      owner = operation.operation === 'subscription' ? null : (owners.find((candidate) => answersWhole(candidate.schema, candidate.referencedOnly, document, operation)) ?? null);
      perOperation.set(key, owner);
    }
    return owner;
  };

  return {
    onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
    stop: () => gateway.stop(),
    async load(options) {
      const loaded = await gateway.load(options);
      const federated = loaded.executor;
      if (!federated) return loaded;
      const executor: GatewayExecutor = async (requestContext) => {
        const owner = ownerOf(requestContext.document, requestContext.operation);
        if (!owner) return federated(requestContext);
        return execute({
          schema: owner.schema,
          document: requestContext.document,
          operationName: requestContext.operationName,
          variableValues: requestContext.request.variables,
          contextValue: owner.contextOf(requestContext.context as RequestContext),
        });
      };
      return { ...loaded, executor };
    },
  };
}

/** `Type.field` of the fields a subgraph declares `@external`: it names them, another subgraph resolves them. */
function referencedOnlyFields(sdl: string): ReadonlySet<string> {
  const external = new Set<string>();
  for (const definition of parse(sdl).definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION && definition.kind !== Kind.INTERFACE_TYPE_DEFINITION) continue;
    for (const field of definition.fields ?? []) {
      if (field.directives?.some((d) => d.name.value === 'external' || d.name.value === 'requires')) external.add(`${definition.name.value}.${field.name.value}`);
    }
  }
  return external;
}

/** Whether every field the operation selects (through its fragments too) is one the subgraph resolves itself. */
function answersWhole(schema: GraphQLSchema, referencedOnly: ReadonlySet<string>, document: DocumentNode, operation: OperationDefinitionNode): boolean {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const typeInfo = new TypeInfo(schema);
  let whole = true;
  const seen = new Set<string>();
  const pending: (OperationDefinitionNode | FragmentDefinitionNode)[] = [operation];
  while (whole && pending.length > 0) {
    visit(
      pending.pop()!,
      visitWithTypeInfo(typeInfo, {
        Field(node) {
          const name = node.name.value;
          if (name === '__typename') return;
          const parent = typeInfo.getParentType();
          const field = typeInfo.getFieldDef();
          if (name.startsWith('__') || !parent || !field || referencedOnly.has(`${parent.name}.${name}`)) {
            whole = false;
            return false;
          }
          return undefined;
        },
        InlineFragment(node) {
          if (node.typeCondition && !schema.getType(node.typeCondition.name.value)) {
            whole = false;
            return false;
          }
          return undefined;
        },
        FragmentSpread(node) {
          const name = node.name.value;
          const fragment = fragments.get(name);
          if (!fragment || !schema.getType(fragment.typeCondition.name.value)) {
            whole = false;
            return false;
          }
          if (!seen.has(name)) {
            seen.add(name);
            pending.push(fragment);
          }
          return undefined;
        },
      }),
    );
  }
  return whole;
}
