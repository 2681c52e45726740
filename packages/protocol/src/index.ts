export * from './errors.js';
export * from './grants.js';
export * from './identity.js';
export * from './ids.js';
export * from './media-plane.js';
export * from './rooms.js';
export * from './version.js';
