export { loadConfig, ConfigError, type Config } from './config.js';
export { startGateway, type RunningGateway } from './gateway.js';
