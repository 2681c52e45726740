import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface Mailbox {
  child: ChildProcess;
  dir: string;
  url: string;
}

const script = fileURLToPath(new URL('./mailbox-server.mjs', import.meta.url));

/** Start the SMTP server process the platform sends its mail to (SMTP_URL). */
export async function startMailbox(): Promise<Mailbox> {
  const dir = mkdtempSync(join(tmpdir(), 'ff-e2e-mail-'));
  const child = spawn(process.execPath, [script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  process.once('exit', () => child.kill('SIGKILL'));
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the mailbox exited (${code})`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /^mailbox: listening on (\d+)$/.exec(line);
      if (m) resolve(Number(m[1]));
    });
  });
  return { child, dir, url: `smtp://127.0.0.1:${port}` };
}

/** The mails received so far (raw RFC 5322 text), oldest first. */
export function receivedMails(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10))
    .map((f) => readFileSync(join(dir, f), 'utf8'));
}

/** The reset link in a mail to `to` (quoted-printable soft line breaks undone). */
export function resetLinkTo(dir: string, to: string): string | undefined {
  for (const raw of receivedMails(dir).reverse()) {
    if (!raw.includes(`To: ${to}`)) continue;
    const body = raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
    const link = /(https?:\/\/\S+\/reset-password#token=[A-Za-z0-9_-]+)/.exec(body)?.[1];
    if (link) return link;
  }
  return undefined;
}
