/** The herd library: the pieces the CLI is made of, for embedding and tests. */
export * from './errors.js';
export * from './protocol/commands.js';
export * from './protocol/fields.js';
export * from './protocol/google-json.js';
export * from './protocol/line-splitter.js';
export * from './protocol/location.js';
export * from './protocol/time.js';
export * from './store/location-store.js';
export * from './peers/backoff.js';
export * from './peers/peer-link.js';
export * from './peers/peer-protocol.js';
export * from './places/index.js';
export * from './server/connection.js';
export * from './server/herd-server.js';
export * from './config/herd-config.js';
export * from './observability/logger.js';
