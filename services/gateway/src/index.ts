export { loadConfig, ConfigError, type Config } from './config.js';
export { startGateway, type RunningGateway } from './gateway.js';
export { startSubgraph, DEFAULT_SUBGRAPH_PORT } from './subgraph.js';
