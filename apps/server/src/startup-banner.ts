import { isLoopbackHost, type ServerConfig } from './config.js';
import type { DemoAccount } from './modules/identity/demo-accounts.js';

export interface StartupState {
  url: string;
  config: Pick<ServerConfig, 'host' | 'demoAccounts' | 'paymentsDevProvider'>;
  embeddedDatabase: boolean;
  demoAccounts: readonly DemoAccount[];
  devProvider: boolean;
}

/**
 * What the operator reads at start-up: where the platform runs, the demo accounts, and — loudly —
 * when a demo convenience (free tokens, accounts with a printed password) is on for a server that
 * other machines can reach, or why it is off. `warnings` are logged as well.
 */
export function startupBanner(s: StartupState): { text: string; warnings: string[] } {
  const lines = [`\n  FusionFlow is running at ${s.url}\n`];
  if (s.demoAccounts.length > 0) {
    lines.push('  Demo accounts (password is the same for all):');
    for (const a of s.demoAccounts) lines.push(`    ${a.role.padEnd(9)} ${a.email.padEnd(26)} ${a.password}`);
    lines.push('');
  }
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

const upperFirst = (t: string) => t.charAt(0).toUpperCase() + t.slice(1);
