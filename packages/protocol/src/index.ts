export * from './errors.js';
export * from './grants.js';
export * from './identity.js';
export * from './ids.js';
export * from './rooms.js';
export * from './signaling.js';
export * from './version.js';
export * from './wallet.js';
