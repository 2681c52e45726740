import { resolve } from 'node:path';
import { BackupError, createBackup } from '../db/backup.js';
import { VERSION } from '../version.js';
import { controlPlaneRunning } from './control-plane.js';
import { loadConfigOrExit } from './load-config.js';
import { runTool } from './run-tool.js';

/**
 * `npm run backup [-- --out FILE]`: the database (with the server keys), and DATA_DIR/recordings
 * when present, into one .tar.gz, with the control plane's settings. PostgreSQL is dumped while
 * the platform runs; the embedded database needs the server stopped.
 */
async function run(): Promise<number> {
  const config = loadConfigOrExit();
  const at = process.argv.indexOf('--out');
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const out = resolve(at > 0 && process.argv[at + 1] ? process.argv[at + 1]! : `fusionflow-backup-${stamp}.tar.gz`);
  if (!config.databaseUrl && (await controlPlaneRunning(config))) {
    console.error(
      'The control plane is running on the embedded database: stop it first (systemctl stop fusionflow-server), back up, start it again. With PostgreSQL (DATABASE_URL) backups run live.',
    );
    return 1;
  }
  const manifest = await createBackup(
    { databaseUrl: config.databaseUrl, dataDir: config.dataDir, serverVersion: VERSION, env: process.env },
    out,
  );
  const rows = Object.entries(manifest.rows)
    .filter(([t]) => ['users', 'ledger_transactions', 'chat_messages', 'rooms'].includes(t))
    .map(([t, n]) => `${t} ${n}`)
    .join(', ');
  console.log(`Backup written to ${out}`);
  console.log(`  database: ${manifest.database}, ${Object.keys(manifest.rows).length} tables (${rows})`);
  console.log(`  recordings: ${manifest.recordings ? 'included' : 'none'}`);
  if (manifest.secretsFromEnvironment.length > 0) {
    console.log(
      `  not in the backup (set in the environment): ${manifest.secretsFromEnvironment.join(', ')}; keep that file backed up too`,
    );
  }
  return 0;
}

runTool(run, [BackupError]);
