import type { ApolloServerPlugin } from '@apollo/server';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type OperationOutcome = 'success' | 'error' | 'refused';

export interface GraphQLMetrics {
  /** Counts and times every operation Apollo Server runs (HTTP; batches count each operation). */
  plugin: ApolloServerPlugin;
  /** One operation, for transports that run operations outside Apollo Server (subscriptions over WebSocket). */
  record(operation: { name: string | null | undefined; type: string; outcome: OperationOutcome; seconds: number }): void;
  /** A request refused before any operation ran (authentication, rate, request limits), by error code. */
  refused(code: string): void;
  /** Call when a subscription starts and when it ends, however it ends. */
  subscriptionOpened(): void;
  subscriptionClosed(): void;
}

/** Distinct operation names kept as labels; later ones are counted as `other` (clients choose names: the label set must stay bounded). */
const MAX_OPERATION_NAMES = 500;

export function createGraphQLMetrics(registry: Registry): GraphQLMetrics {
  const operations = new Counter({
    name: 'canopy_graphql_operations_total',
    help: 'GraphQL operations by name, type (query, mutation, subscription) and outcome (success; error: it ran and answered errors; refused: parsing, validation or a limit stopped it)',
    labelNames: ['operation', 'type', 'outcome'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'canopy_graphql_operation_duration_seconds',
    help: 'Time from the start of an operation to its response, by name and type',
    labelNames: ['operation', 'type'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const refusals = new Counter({
    name: 'canopy_graphql_requests_refused_total',
    help: 'GraphQL requests refused before any operation ran, by error code (UNAUTHENTICATED, RATE_LIMITED, BATCH_TOO_LARGE, …)',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const subscriptions = new Gauge({ name: 'canopy_graphql_subscriptions_open', help: 'Subscriptions open now', registers: [registry] });

  const names = new Set<string>();
  const label = (name: string | null | undefined): string => {
    if (!name) return 'anonymous';
    if (names.has(name)) return name;
    if (names.size >= MAX_OPERATION_NAMES) return 'other';
    names.add(name);
    return name;
  };
  const record: GraphQLMetrics['record'] = ({ name, type, outcome, seconds }) => {
    const operation = label(name);
    operations.inc({ operation, type, outcome });
    duration.observe({ operation, type }, seconds);
  };

  return {
    record,
    refused: (code) => refusals.inc({ code }),
    subscriptionOpened: () => subscriptions.inc(),
    subscriptionClosed: () => subscriptions.dec(),
    plugin: {
      async contextCreationDidFail({ error }) {
        const code = (error as { extensions?: { code?: unknown } }).extensions?.code;
        refusals.inc({ code: typeof code === 'string' ? code : 'INTERNAL' });
      },
      async requestDidStart() {
        const started = performance.now();
        let executed = false;
        return {
          async executionDidStart() {
            executed = true;
          },
          async willSendResponse({ operation, operationName, errors }) {
            const outcome: OperationOutcome = !errors?.length ? 'success' : executed ? 'error' : 'refused';
            // An operation that was never resolved (unparsable, unknown operationName) has no name or type to report.
            record({ name: operation ? operationName : 'unknown', type: operation?.operation ?? 'unknown', outcome, seconds: (performance.now() - started) / 1000 });
          },
        };
      },
    },
  };
}
