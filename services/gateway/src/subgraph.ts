import { pino, type Logger } from 'pino';
import type { Config, SubgraphName } from './config.js';
import { startServing, type RunningGateway } from './gateway.js';

export { DEFAULT_SUBGRAPH_PORT } from './config.js';

/**
 * Serves one subgraph alone over HTTP (`/graphql`, `/healthz`, `/metrics`),
 * for a gateway or any Federation 2 router to route to: its schema with
 * `_service` and `_entities`, the same authentication (every request needs
 * the caller's bearer token, which gateways forward), the same error codes,
 * and the same read-your-writes (`canopy-read-after`). It opens what the
 * subgraph runs on (for workspaces: the log, the key store, the read
 * models), configured by the same `CANOPY_*` variables as the gateway.
 */
export function startSubgraph(config: Config, name: SubgraphName, logger: Logger = pino({ level: config.logLevel })): Promise<RunningGateway> {
  return startServing(config, logger, { kind: 'subgraph', name });
}
