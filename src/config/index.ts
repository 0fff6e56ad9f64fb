export { loadConfig, ConfigError, type LoadSources } from './loader.js';
export { ConfigSchema, DEFAULTS, type Config, type ServiceName } from './schema.js';
