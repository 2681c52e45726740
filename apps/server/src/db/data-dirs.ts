import { join } from 'node:path';

/** Where the embedded database (PGlite) keeps its files, under DATA_DIR. */
export const pgliteDir = (dataDir: string) => join(dataDir, 'pglite');

/** Where recordings are kept when they are stored locally, under DATA_DIR (backed up when present). */
export const recordingsDir = (dataDir: string) => join(dataDir, 'recordings');
