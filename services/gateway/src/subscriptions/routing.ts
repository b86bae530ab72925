import { GraphQLError, Kind, getOperationAST, parse, specifiedRules, validate, type DocumentNode, type FragmentDefinitionNode, type GraphQLSchema, type SelectionSetNode, type ValidationRule } from 'graphql';
import { ErrorCode, isCanopyError } from '@canopy/schema';
import type { EventFeed } from '@canopy/workspaces';

/** Who a subscription is for, as its subgraph's context is built from it. */
export interface Subscriber {
  userId: string;
  correlationId: string;
  /** This subscription's event feed (one per subscription: its queue and its limits). */
  events: EventFeed;
}

/** A subgraph whose Subscription fields this process executes, in process, on its schema. */
export interface InProcessRoute {
  subgraph: string;
  /** Its executable schema: `subscribe` runs on it. */
  schema: GraphQLSchema;
  /** The context its resolvers get for one subscription: the same shape its HTTP resolvers get. */
  context(subscriber: Subscriber): unknown;
  /** Its subscription results depend only on the event, the operation and the variables (not on the caller): executed once per event for all alike subscriptions. */
  sharedResults?: boolean;
}

/** A subgraph served by another process: its subscriptions are relayed to its own graphql-ws endpoint. */
export interface RemoteRoute {
  subgraph: string;
  /** Its schema as this process builds it (the same code): operations are routed and validated here. */
  schema: GraphQLSchema;
  /** Its GraphQL URL, http(s)://…/graphql; the WebSocket endpoint is the same URL as ws(s)://. */
  url: string;
}

export type SubscriptionRoute = InProcessRoute | RemoteRoute;

/** Subscription field → the subgraph that owns it. */
export type RoutingTable = ReadonlyMap<string, SubscriptionRoute>;

/** Builds the table from each subgraph's own Subscription type; a field two subgraphs claim stops the start. */
export function routingTable(routes: readonly SubscriptionRoute[]): RoutingTable {
  const table = new Map<string, SubscriptionRoute>();
  for (const route of routes) {
    for (const field of Object.keys(route.schema.getSubscriptionType()?.getFields() ?? {})) {
      const owner = table.get(field);
      if (owner) throw new Error(`Subscription.${field} is defined by two subgraphs, ${owner.subgraph} and ${route.subgraph}: a subscription field has one owner.`);
      table.set(field, route);
    }
  }
  return table;
}

/** The request limits a subscription's document is held to: its tokens, and validation rules besides graphql's own. */
export interface RouteChecks {
  maxTokens: number;
  rules: readonly ValidationRule[];
}

export type Routed = { route: SubscriptionRoute; document: DocumentNode } | { errors: GraphQLError[] };

/**
 * Parses an operation and finds the subgraph that executes it: it must be a
 * subscription (queries and mutations go to POST /graphql), and all its
 * root fields must belong to one subgraph. The document is validated
 * against that subgraph's schema.
 */
export function route(table: RoutingTable, query: string, operationName: string | null | undefined, checks: RouteChecks = { maxTokens: 10_000, rules: [] }): Routed {
  let document: DocumentNode;
  try {
    document = parse(query, { maxTokens: checks.maxTokens });
  } catch (error) {
    if (error instanceof GraphQLError && /Document contains more tha[nt] \d+ tokens/.test(error.message)) {
      return { errors: [requestError(`A GraphQL document may hold at most ${checks.maxTokens} tokens (CANOPY_MAX_TOKENS).`, ErrorCode.TOO_MANY_TOKENS, { limit: checks.maxTokens })] };
    }
    return { errors: [requestError(error instanceof GraphQLError ? error.message : String(error), 'GRAPHQL_PARSE_FAILED')] };
  }
  const operation = getOperationAST(document, operationName);
  if (!operation) {
    const message = operationName ? `No operation named "${operationName}" in the document.` : 'The document must hold exactly one operation, or name one with operationName.';
    return { errors: [requestError(message, ErrorCode.BAD_USER_INPUT, { field: 'operationName' })] };
  }
  if (operation.operation !== 'subscription') {
    return {
      errors: [requestError(`Only subscriptions are served over WebSocket; send ${operation.operation === 'query' ? 'queries' : 'mutations'} to POST /graphql.`, ErrorCode.BAD_USER_INPUT, { field: 'query' })],
    };
  }
  const fields = rootFields(document, operation.selectionSet);
  const owners = new Set<SubscriptionRoute>();
  for (const field of fields) {
    const owner = table.get(field);
    if (!owner) {
      const known = [...table.keys()].sort().join(', ') || 'none';
      return { errors: [requestError(`Subscription.${field} does not exist; the subscription fields are: ${known}.`, 'GRAPHQL_VALIDATION_FAILED')] };
    }
    owners.add(owner);
  }
  const [owner, ...others] = owners;
  if (!owner) return { errors: [requestError('A subscription selects one field of Subscription.', 'GRAPHQL_VALIDATION_FAILED')] };
  if (others.length > 0) {
    const names = [owner, ...others].map((r) => r.subgraph).join(', ');
    return { errors: [requestError(`The operation's fields belong to different subgraphs (${names}): subscribe to each in its own operation.`, 'GRAPHQL_VALIDATION_FAILED')] };
  }
  const invalid = validate(owner.schema, document, [...specifiedRules, ...checks.rules]);
  if (invalid.length > 0) {
    // A limit's refusal keeps its own code (QUERY_TOO_DEEP, …), as over HTTP.
    return { errors: invalid.map((error) => (isCanopyError(error.originalError) ? error : requestError(error.message, 'GRAPHQL_VALIDATION_FAILED', {}, error))) };
  }
  return { route: owner, document };
}

/** The names of the operation's root fields, through fragments (`__typename` left out). */
function rootFields(document: DocumentNode, selectionSet: SelectionSetNode): string[] {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const names = new Set<string>();
  const visited = new Set<string>();
  const walk = (set: SelectionSetNode) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value !== '__typename') names.add(selection.name.value);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        walk(selection.selectionSet);
      } else if (!visited.has(selection.name.value)) {
        visited.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) walk(fragment.selectionSet);
      }
    }
  };
  walk(selectionSet);
  return [...names];
}

function requestError(message: string, code: string, details: Record<string, unknown> = {}, source?: GraphQLError): GraphQLError {
  return new GraphQLError(message, { ...(source?.nodes ? { nodes: source.nodes } : {}), extensions: { ...details, code } });
}
