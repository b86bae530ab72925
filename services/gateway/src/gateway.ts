import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { openEventStore, type EventStore } from '@canopy/eventstore';
import type { Config } from './config.js';
import { createHttpServer } from './http-server.js';
import { createMetrics } from './metrics.js';

export interface RunningGateway {
  url: string;
  store: EventStore;
  stop(): Promise<void>;
}

/** Opens the log and serves HTTP; `stop` closes both. */
export async function startGateway(config: Config, logger: Logger = pino({ level: config.logLevel })): Promise<RunningGateway> {
  const log = await openEventStore(config.eventStore);
  logger.info({ store: log.description }, 'event log open');
  const server = createHttpServer({ store: log.store, metrics: createMetrics(log.store), logger, logDescription: log.description });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host}:${port}`;
  logger.info({ url, health: `${url}/healthz`, metrics: `${url}/metrics` }, 'canopy listening');
  return {
    url,
    store: log.store,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await log.close();
      logger.info('canopy stopped');
    },
  };
}
