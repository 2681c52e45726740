import { resolve } from 'node:path';
import { BackupError, restoreBackup } from '../db/backup.js';
import { controlPlaneRunning } from './control-plane.js';
import { loadConfigOrExit } from './load-config.js';
import { runTool } from './run-tool.js';

/**
 * `npm run restore -- FILE [--force]`: a backup made by `npm run backup` into the configured
 * database and DATA_DIR. Stop every control-plane process first. Without --force it refuses to
 * overwrite a database that has tables; it checks every table's row count afterwards.
 */
async function run(): Promise<number> {
  const config = loadConfigOrExit();
  const args = process.argv.slice(2).filter((a) => a !== '--');
  const file = args.find((a) => !a.startsWith('--'));
  if (!file) {
    console.error('usage: npm run restore -- <backup.tar.gz> [--force]');
    return 64; // EX_USAGE
  }
  if (await controlPlaneRunning(config)) {
    console.error('The control plane is running: stop every control-plane process before restoring.');
    return 1;
  }
  const result = await restoreBackup(resolve(file), {
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    force: args.includes('--force'),
  });
  console.log(`Restored ${file} (made ${result.manifest.createdAt}, server ${result.manifest.serverVersion})`);
  console.log(`  ${Object.keys(result.rows).length} tables, every row count as at the backup`);
  if (result.manifest.recordings) console.log('  recordings restored');
  for (const dir of result.setAside) console.log(`  the previous data was moved to ${dir}`);
  return 0;
}

runTool(run, [BackupError]);
