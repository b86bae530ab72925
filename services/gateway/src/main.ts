import { pino } from 'pino';
import { isCanopyError } from '@canopy/schema';
import { AuthConfigError } from './auth/index.js';
import { ConfigError, loadConfig } from './config.js';
import { DataDirInUse } from './data-dir-lock.js';
import { startGateway } from './gateway.js';

// Signals are handled from the first moment: one that arrives while the gateway starts stops it once started.
let requested: string | undefined;
let shutdown = (signal: string) => {
  requested ??= signal;
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));

try {
  const config = loadConfig();
  const logger = pino({ level: config.logLevel });
  const gateway = await startGateway(config, logger);
  let stopping = false;
  shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    gateway.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  if (requested) shutdown(requested);
} catch (error) {
  if (error instanceof ConfigError || error instanceof AuthConfigError || error instanceof DataDirInUse || isCanopyError(error, 'BAD_USER_INPUT')) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}
