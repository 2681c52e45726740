export * from './circuit-breaker.js';
export * from './config.js';
export * from './errors.js';
export * from './internal-signature.js';
export * from './lifecycle.js';
export * from './logger.js';
export * from './metrics.js';
export * from './rate-limiter.js';
