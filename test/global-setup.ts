import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { migrateToLatest, openDatabase } from '../apps/server/src/db/database.js';

/**
 * Build one migrated PGlite database per test run and hand its dump to every suite: a fresh PGlite
 * costs seconds of initdb, loading the dump well under one.
 */
export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'ff-pglite-template-'));
  const handle = await openDatabase({ dataDir: 'memory://' });
  await migrateToLatest(handle);
  const blob = await handle.dumpDataDir!();
  writeFileSync(join(dir, 'template.tar'), Buffer.from(await blob.arrayBuffer()));
  await handle.close();
  project.provide('pgliteTemplate', join(dir, 'template.tar'));
  return () => rmSync(dir, { recursive: true, force: true });
}
