import { type ObjectStoreSettings, objectStoreConfigOf } from '@fusionflow/kit';
import type { DiagnosticCheck } from '@fusionflow/protocol';
import { isLoopbackHost, type ServerConfig } from './config.js';
import type { DemoAccount } from './modules/identity/demo-accounts.js';

export interface StartupState {
  url: string;
  config: Pick<
    ServerConfig,
    'host' | 'demoAccounts' | 'paymentsDevProvider' | 'redisUrl' | 'translationEngine' | 'smtpUrl'
  > &
    ObjectStoreSettings;
  embeddedDatabase: boolean;
  demoAccounts: readonly DemoAccount[];
  devProvider: boolean;
  /** Whether signed-in users get TURN credentials (TURN_URLS and TURN_SECRET). */
  turnEnabled: boolean;
  /** The translation engine's check at start-up (the doctor's). */
  translation: Pick<DiagnosticCheck, 'status' | 'summary'>;
}

/**
 * What the operator reads at start-up, printed after everything else: where the platform runs and
 * what to do next, the demo accounts, which optional parts are on and how to turn the others on,
 * and — loudly — when a demo convenience (free tokens, accounts with a printed password) is on for
 * a server that other machines can reach, or why it is off. `warnings` are logged as well.
 */
export function startupBanner(s: StartupState): { text: string; warnings: string[] } {
  const lines = [`\n  FusionFlow is running at ${s.url}\n`];
  const streamer = s.demoAccounts.find((a) => a.role === 'streamer');
  const viewer = s.demoAccounts.find((a) => a.role === 'viewer');
  if (streamer && viewer) {
    lines.push(
      `  Next: open ${s.url} in a browser, sign in as ${streamer.email} and press Create room to go live;`,
      `  sign in as ${viewer.email} in a private window to watch.`,
      '',
      '  Demo accounts (password is the same for all):',
    );
    for (const a of s.demoAccounts) lines.push(`    ${a.role.padEnd(9)} ${a.email.padEnd(26)} ${a.password}`);
    lines.push('');
  } else {
    lines.push(`  Next: open ${s.url} in a browser and create an account (Sign up).`, '');
  }
  lines.push('  Optional parts (settings in docs/operations.md):');
  for (const part of optionalParts(s)) {
    lines.push(`    ${part.name.padEnd(12)} ${part.state}`);
    if (part.howTo) lines.push(`    ${''.padEnd(12)} ${part.howTo}`);
  }
  lines.push('');
  const reachable = !isLoopbackHost(s.config.host);
  const warnings: string[] = [];
  if (reachable && s.demoAccounts.length > 0) {
    warnings.push('demo accounts are on (DEMO_ACCOUNTS=true): anyone can sign in with the password printed above');
  }
  if (reachable && s.devProvider) {
    warnings.push(
      'the free dev payment provider is on (PAYMENTS_DEV_PROVIDER=true): anyone can credit themselves tokens without paying',
    );
  }
  if (warnings.length > 0) {
    lines.push(`  !!! WARNING: HOST=${s.config.host} is reachable from other machines, and`);
    for (const w of warnings) lines.push(`  !!!   - ${w}`);
    lines.push('  !!! Set them to false before anyone else can use this server.', '');
  }
  const turnedOff = [
    ...(s.config.demoAccounts === 'auto' ? ['demo accounts'] : []),
    ...(s.config.paymentsDevProvider === 'auto' ? ['the free dev payment provider'] : []),
  ];
  if (reachable && s.embeddedDatabase && turnedOff.length > 0) {
    lines.push(
      `  ${upperFirst(turnedOff.join(' and '))} ${turnedOff.length > 1 ? 'are' : 'is'} off: HOST=${s.config.host} is reachable from other machines`,
      '  (they are on by default only on a loopback address). To try them out anyway, set DEMO_ACCOUNTS=true and/or',
      '  PAYMENTS_DEV_PROVIDER=true explicitly — never on a server others use.',
      '',
    );
  } else if (!reachable && s.devProvider) {
    lines.push(
      '  The dev payment provider is on: purchases credit tokens without payment (this server listens on loopback only).',
      '',
    );
  }
  return { text: lines.join('\n'), warnings };
}

interface OptionalPart {
  name: string;
  state: string;
  /** How to turn it on (or fix it); absent when it is on and working. */
  howTo?: string;
}

function optionalParts(s: StartupState): OptionalPart[] {
  const t = s.translation;
  const translation: OptionalPart =
    s.config.translationEngine === 'none'
      ? {
          name: 'Translation',
          state: 'off: chat is shown as written.',
          howTo:
            'To translate it, run Apertium APy or LibreTranslate and set TRANSLATION_ENGINE and TRANSLATION_URL (README).',
        }
      : t.status === 'ok'
        ? { name: 'Translation', state: `on: ${t.summary}.` }
        : {
            name: 'Translation',
            state: `NOT WORKING: ${t.summary}; chat is shown as written until it answers.`,
            howTo: 'Check that the engine runs at TRANSLATION_URL; `npm run doctor` says more.',
          };
  return [
    translation,
    s.turnEnabled
      ? { name: 'TURN', state: 'on: signed-in users get relay credentials (check them with `npm run doctor`).' }
      : {
          name: 'TURN',
          state: 'off: calls between people behind strict firewalls or carrier NAT may get no media.',
          howTo: 'Run coturn (deploy/coturn/) and set TURN_URLS and TURN_SECRET.',
        },
    s.config.redisUrl
      ? { name: 'Redis', state: 'on: several control-plane processes share calls and sessions.' }
      : {
          name: 'Redis',
          state: 'off: one process keeps call state in memory (enough for one machine).',
          howTo: 'To run several processes, set REDIS_URL=redis://host:6379 on each.',
        },
    s.config.smtpUrl
      ? { name: 'Email', state: 'on: people who forgot their password get a reset link by email.' }
      : {
          name: 'Email',
          state: 'off: no "forgot password" link; an admin makes reset links instead.',
          howTo: 'Set SMTP_URL=smtp://user:password@mail.example.com:587 (and PUBLIC_URL for the links).',
        },
    s3Part(s.config),
  ];
}

function s3Part(config: ObjectStoreSettings): OptionalPart {
  const store = objectStoreConfigOf(config);
  if (!store) {
    return {
      name: 'S3 storage',
      state: 'off: recordings stay on the SFU’s disk (DATA_DIR/recordings for the embedded SFU).',
      howTo:
        'To keep them in MinIO, Ceph RGW or AWS S3, set S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY (and S3_ENDPOINT).',
    };
  }
  const where = store.endpoint ? `at ${store.endpoint}` : `in AWS S3 (${store.region})`;
  return { name: 'S3 storage', state: `on: recordings are kept in bucket ${store.bucket} ${where}.` };
}

const upperFirst = (t: string) => t.charAt(0).toUpperCase() + t.slice(1);
