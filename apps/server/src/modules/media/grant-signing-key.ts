import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, importPKCS8, type JWK } from 'jose';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { getOrCreateServerKey } from '../../db/server-keys.js';

export interface GrantSigningKey {
  readonly kid: string;
  readonly privateKey: Awaited<ReturnType<typeof importPKCS8>>;
  /** Public half as a JWK, served at /.well-known/jwks.json. */
  readonly publicJwk: JWK;
}

/**
 * The Ed25519 key that signs media-plane grants: from config when given, otherwise generated on
 * first start and kept in the database so every control-plane process signs with the same key.
 * The SFU only ever sees the public half.
 */
export async function loadGrantSigningKey(db: Kysely<Database>, configuredPem?: string): Promise<GrantSigningKey> {
  const pem =
    configuredPem ??
    (await getOrCreateServerKey(db, 'grant_signing_key_ed25519', () =>
      generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    ));
  const privateKey = await importPKCS8(pem, 'EdDSA', { extractable: true });
  const { d: _private, ...publicJwk } = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return { kid, privateKey, publicJwk: { ...publicJwk, kid, alg: 'EdDSA', use: 'sig' } };
}
