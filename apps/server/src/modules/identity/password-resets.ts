import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  AppError,
  type ConcurrencyLimit,
  forbidden,
  type Logger,
  notFound,
  type RateLimiter,
  rateLimited,
} from '@fusionflow/kit';
import { ErrorCode, type PasswordResetConfirm, type UserId } from '@fusionflow/protocol';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Session } from './access-tokens.js';
import type { IdentityService } from './identity-service.js';
import type { Mailer } from './mailer.js';
import type { PasswordHasher } from './password-hasher.js';

export interface PasswordResetsOptions {
  db: Kysely<Database>;
  hasher: PasswordHasher;
  hashing: ConcurrencyLimit;
  identity: IdentityService;
  /** Absent without SMTP_URL: no email is sent; admins make reset links instead. */
  mailer: Mailer | undefined;
  ttlMinutes: number;
  /** Reset emails per client address, and per email address asked for. */
  perIp: RateLimiter;
  perEmail: RateLimiter;
  logger: Logger;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');

/** The page of the web app that takes the token (in the fragment: never sent to a server, nor in a Referer). */
export const resetLink = (origin: string, token: string) => `${origin}/reset-password#token=${token}`;

const MAIL = {
  en: {
    subject: 'Reset your FusionFlow password',
    text: (link: string, minutes: number) =>
      `Someone (hopefully you) asked to reset the password of your FusionFlow account.\n\nTo choose a new password, open this link within ${minutes} minutes (it works once):\n\n${link}\n\nIf you did not ask for this, ignore this email: your password stays as it is.\n`,
  },
  es: {
    subject: 'Restablece tu contraseña de FusionFlow',
    text: (link: string, minutes: number) =>
      `Alguien (esperamos que tú) ha pedido restablecer la contraseña de tu cuenta de FusionFlow.\n\nPara elegir una nueva, abre este enlace en los próximos ${minutes} minutos (funciona una vez):\n\n${link}\n\nSi no lo has pedido, ignora este correo: tu contraseña no cambia.\n`,
  },
} as const;

/**
 * "Forgot password": a single-use, expiring token (stored hashed) sent by email as a link; or,
 * without email, made by an admin and handed over. Asking says the same whether or not the account
 * exists (and sends the email after answering, so its time says nothing either); asking is limited
 * per address and per email; a reset ends every session of the account.
 */
export class PasswordResets {
  constructor(private readonly o: PasswordResetsOptions) {}

  get byEmail(): boolean {
    return this.o.mailer !== undefined;
  }

  /** Send a reset link to `email` if it has an account. Resolves the same way whether it does or not. */
  async request(email: string, ip: string, origin: string): Promise<void> {
    if (!this.o.mailer)
      throw new AppError(ErrorCode.Unavailable, 'this server sends no email; ask an admin to reset your password');
    // Counted before anything is looked up; a limited email is limited whether or not it has an account.
    for (const [limiter, key] of [
      [this.o.perIp, ip],
      [this.o.perEmail, email],
    ] as const) {
      const hit = await limiter.hit(key);
      if (!hit.allowed) throw rateLimited(hit.retryAfterSeconds, 'too many password-reset requests; try again later');
    }
    const mailer = this.o.mailer;
    // The work happens after the answer: neither its outcome nor its duration reveals the account.
    setImmediate(() => {
      void (async () => {
        const user = await this.o.db
          .selectFrom('users')
          .select(['id', 'language'])
          .where('email', '=', email)
          .executeTakeFirst();
        if (!user) {
          this.o.logger.info({ ip }, 'password reset asked for an email without an account');
          return;
        }
        const { token } = await this.#create(user.id);
        const words = user.language.startsWith('es') ? MAIL.es : MAIL.en;
        await mailer.send({
          to: email,
          subject: words.subject,
          text: words.text(resetLink(origin, token), this.o.ttlMinutes),
        });
        this.o.logger.info({ userId: user.id }, 'password reset email sent');
      })().catch((err: unknown) => this.o.logger.error({ err }, 'could not send a password reset email'));
    });
  }

  /** Admin only: a reset link for an account, to hand over (the admin never learns a password). */
  async adminLink(actor: Session, userId: UserId, origin: string): Promise<{ resetUrl: string; expiresAt: string }> {
    if (actor.role !== 'admin') throw forbidden('only an admin can reset passwords');
    const user = await this.o.db.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst();
    if (!user) throw notFound('no such account');
    const { token, expiresAt } = await this.#create(user.id);
    this.o.logger.info({ actor: actor.userId, userId }, 'password reset link made by admin');
    return { resetUrl: resetLink(origin, token), expiresAt: expiresAt.toISOString() };
  }

  /** Set a new password with a token: once, before it expires; every session of the account ends. */
  async reset(input: PasswordResetConfirm): Promise<void> {
    const passwordHash = await this.o.hashing.run(() => this.o.hasher.hash(input.newPassword));
    const userId = await this.o.db.transaction().execute(async (tx) => {
      // Claimed in one statement: of two requests with one token, one wins.
      const claimed = await tx
        .updateTable('password_resets')
        .set({ used_at: new Date() })
        .where('token_hash', '=', hashToken(input.token))
        .where('used_at', 'is', null)
        .where('expires_at', '>', new Date())
        .returning('user_id')
        .executeTakeFirst();
      if (!claimed) return undefined;
      await tx
        .updateTable('users')
        .set({ password_hash: passwordHash, updated_at: new Date() })
        .where('id', '=', claimed.user_id)
        .execute();
      // Any other link still out there dies with this one.
      await tx
        .updateTable('password_resets')
        .set({ used_at: new Date() })
        .where('user_id', '=', claimed.user_id)
        .where('used_at', 'is', null)
        .execute();
      return claimed.user_id;
    });
    if (!userId) {
      throw new AppError(ErrorCode.ResetTokenInvalid, 'this reset link is unknown, used or expired; ask for a new one');
    }
    await this.o.identity.endUserSessions(userId as UserId, 'your password was reset; sign in again');
    this.o.logger.info({ userId }, 'password reset');
  }

  async #create(userId: string): Promise<{ token: string; expiresAt: Date }> {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + this.o.ttlMinutes * 60_000);
    await this.o.db
      .insertInto('password_resets')
      .values({ id: randomUUID(), user_id: userId, token_hash: hashToken(token), expires_at: expiresAt })
      .execute();
    return { token, expiresAt };
  }
}
