import { randomBytes, randomUUID } from 'node:crypto';
import type { Role } from '@fusionflow/protocol';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { getOrCreateServerKey } from '../../db/server-keys.js';
import type { PasswordHasher } from './password-hasher.js';
import { freeHandle } from './user-handles.js';

export interface DemoAccount {
  email: string;
  password: string;
  role: Role;
  displayName: string;
}

const ACCOUNTS: Omit<DemoAccount, 'password'>[] = [
  { email: 'admin@fusionflow.test', role: 'admin', displayName: 'Demo Admin' },
  { email: 'streamer@fusionflow.test', role: 'streamer', displayName: 'Demo Streamer' },
  { email: 'viewer@fusionflow.test', role: 'viewer', displayName: 'Demo Viewer' },
];

/**
 * Demo accounts for a first look (embedded mode). Their password is generated once per database and
 * kept with the server's keys, so it can be printed at every start; nothing is hard-coded.
 */
export async function ensureDemoAccounts(db: Kysely<Database>, hasher: PasswordHasher): Promise<DemoAccount[]> {
  const password = await getOrCreateServerKey(db, 'demo_password', () => randomBytes(9).toString('base64url'));
  const existing = new Set(
    (
      await db
        .selectFrom('users')
        .select('email')
        .where(
          'email',
          'in',
          ACCOUNTS.map((a) => a.email),
        )
        .execute()
    ).map((r) => r.email),
  );
  for (const account of ACCOUNTS) {
    if (existing.has(account.email)) continue;
    await db
      .insertInto('users')
      .values({
        id: randomUUID(),
        email: account.email,
        password_hash: await hasher.hash(password),
        display_name: account.displayName,
        handle: await freeHandle(db, account.displayName),
        role: account.role,
        language: 'en',
      })
      .onConflict((oc) => oc.column('email').doNothing())
      .execute();
  }
  return ACCOUNTS.map((a) => ({ ...a, password }));
}
