import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  AppError,
  badRequest,
  type ConcurrencyLimit,
  conflict,
  Emitter,
  forbidden,
  type Logger,
  logListenerErrors,
  notFound,
  type RateLimiter,
  rateLimited,
  unauthorized,
} from '@fusionflow/kit';
import {
  type AdminUpdateUserRequest,
  asUserId,
  type ChangePasswordRequest,
  ErrorCode,
  type LoginRequest,
  type RegisterRequest,
  type Role,
  type UpdateMeRequest,
  type User,
  type UserId,
} from '@fusionflow/protocol';
import type { Kysely } from 'kysely';
import { isUniqueViolation } from '../../db/database.js';
import type { Database, UserRow } from '../../db/schema.js';
import type { AuditLog } from '../governance/audit-log.js';
import type { AccessTokens, Session } from './access-tokens.js';
import type { LoginThrottle } from './login-throttle.js';
import type { PasswordHasher } from './password-hasher.js';
import { freeHandle } from './user-handles.js';

/** What a successful sign-in (or refresh) hands back: the access token and a new refresh token. */
export interface SignedIn {
  user: User;
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
}

export interface IdentityServiceOptions {
  db: Kysely<Database>;
  hasher: PasswordHasher;
  accessTokens: AccessTokens;
  refreshTokenTtlDays: number;
  /** Seconds during which an exchanged refresh token still renews (concurrent tabs), see refresh(). */
  refreshReuseGraceSeconds: number;
  /** Who may try a password now (counted before the check). */
  loginThrottle: LoginThrottle;
  /** Sign-ups per client address. */
  registrationLimiter: RateLimiter;
  /** Password hashing shares: sign-ins and sign-ups each have their own, so a flood of one does not queue the other. */
  hashing: { login: ConcurrencyLimit; register: ConcurrencyLimit };
  /** Where role changes are recorded. */
  audit?: AuditLog;
  logger: Logger;
}

/** An account's active suspension, if any (a row whose `until` has passed does not count). */
export async function activeSuspension(
  db: Kysely<Database>,
  userId: string,
): Promise<{ reason: string; until: Date | null; created_by: string; created_at: Date } | undefined> {
  const row = await db
    .selectFrom('suspensions')
    .select(['reason', 'until', 'created_by', 'created_at'])
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (!row || (row.until !== null && new Date(row.until).getTime() <= Date.now())) return undefined;
  return { ...row, until: row.until === null ? null : new Date(row.until) };
}

/** The `suspended` error: the reason and the end (null: until lifted) are in `details`. */
export function suspendedError(s: { reason: string; until: Date | null }): AppError {
  const until = s.until ? s.until.toISOString() : null;
  return new AppError(ErrorCode.Suspended, `your account is suspended${until ? ` until ${until}` : ''}: ${s.reason}`, {
    reason: s.reason,
    until,
  });
}

export interface IdentityEvents {
  [event: string]: unknown;
  /**
   * A session was signed out (or ended because its refresh token was reused, or its account was
   * suspended or demoted): its connections must close. `message` says why, for the user.
   */
  'session-ended': { sessionId: string; message?: string };
}

/** 409 handle_taken: another account has this handle. */
function handleTaken(handle: string): AppError {
  return conflict(`the handle "${handle}" is taken`, ErrorCode.HandleTaken);
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');

export function toUser(row: UserRow): User {
  return {
    id: asUserId(row.id),
    email: row.email,
    displayName: row.display_name,
    handle: row.handle,
    role: row.role,
    language: row.language,
    studioId: row.studio_id === null ? null : asUserId(row.studio_id),
    createdAt: row.created_at.toISOString(),
  };
}

/**
 * Accounts and sessions. Refresh tokens rotate on every use and are stored hashed; each chain of
 * rotations is a family, and presenting a token that was already exchanged revokes the whole family
 * (someone copied it) — unless it comes back within a few seconds of its exchange, which is two tabs
 * of one browser refreshing at the same moment.
 */
export class IdentityService extends Emitter<IdentityEvents> {
  constructor(private readonly o: IdentityServiceOptions) {
    super(logListenerErrors(o.logger));
  }

  async register(input: RegisterRequest, ip: string): Promise<SignedIn> {
    // Counted before any hashing, so a flood from one address costs one scrypt per allowed sign-up.
    const perIp = await this.o.registrationLimiter.hit(ip);
    if (!perIp.allowed) throw rateLimited(perIp.retryAfterSeconds, 'too many sign-ups from this address; try later');
    const taken = await this.o.db.selectFrom('users').select('id').where('email', '=', input.email).executeTakeFirst();
    if (taken) throw conflict('an account with this email already exists', ErrorCode.EmailTaken);
    if (input.handle !== undefined) await this.#refuseTakenHandle(input.handle);
    const passwordHash = await this.o.hashing.register.run(() => this.o.hasher.hash(input.password));
    return this.#insertWithHandle(input.handle, input.displayName, (handle) =>
      this.o.db.transaction().execute(async (tx) => {
        const row = await tx
          .insertInto('users')
          .values({
            id: randomUUID(),
            email: input.email,
            password_hash: passwordHash,
            display_name: input.displayName,
            handle,
            role: input.role ?? 'viewer',
            language: input.language ?? 'en',
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        this.o.logger.info({ userId: row.id, role: row.role, handle }, 'account registered');
        return this.#signIn(tx, row, randomUUID());
      }),
    );
  }

  async #refuseTakenHandle(handle: string, except?: string): Promise<void> {
    let q = this.o.db.selectFrom('users').select('id').where('handle', '=', handle);
    if (except) q = q.where('id', '<>', except);
    if (await q.executeTakeFirst()) throw handleTaken(handle);
  }

  /**
   * Insert an account with the handle asked for (taken: 409 handle_taken) or one derived from the
   * display name (taken meanwhile by a concurrent sign-up: derive again). A taken email is 409 email_taken.
   */
  async #insertWithHandle<T>(asked: string | undefined, displayName: string, insert: (handle: string) => Promise<T>) {
    for (let attempt = 1; ; attempt++) {
      const handle = asked ?? (await freeHandle(this.o.db, displayName));
      try {
        return await insert(handle);
      } catch (err) {
        if (isUniqueViolation(err, 'users_email_key')) {
          throw conflict('an account with this email already exists', ErrorCode.EmailTaken);
        }
        if (isUniqueViolation(err, 'users_handle_key')) {
          if (asked !== undefined) throw handleTaken(asked);
          if (attempt < 5) continue;
        }
        throw err;
      }
    }
  }

  /** An account made by an admin (a studio): no sign-in; the owner signs in with the password given. */
  async createAccount(input: { email: string; password: string; displayName: string; role: Role }): Promise<User> {
    const taken = await this.o.db.selectFrom('users').select('id').where('email', '=', input.email).executeTakeFirst();
    if (taken) throw conflict('an account with this email already exists', ErrorCode.EmailTaken);
    const passwordHash = await this.o.hashing.register.run(() => this.o.hasher.hash(input.password));
    return this.#insertWithHandle(undefined, input.displayName, async (handle) => {
      const row = await this.o.db
        .insertInto('users')
        .values({
          id: randomUUID(),
          email: input.email,
          password_hash: passwordHash,
          display_name: input.displayName,
          handle,
          role: input.role,
          language: 'en',
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toUser(row);
    });
  }

  async login(input: LoginRequest, ip: string): Promise<SignedIn> {
    // Counted before the password is checked: parallel attempts see each other.
    const attempt = this.o.loginThrottle.begin(input.email, ip);
    let row: UserRow | undefined;
    let ok: boolean;
    try {
      row = await this.o.db.selectFrom('users').selectAll().where('email', '=', input.email).executeTakeFirst();
      const stored = row?.password_hash;
      ok = await this.o.hashing.login.run(() =>
        stored !== undefined
          ? this.o.hasher.verify(input.password, stored)
          : this.o.hasher.verifyNothing(input.password),
      );
    } catch (err) {
      attempt.cancel();
      throw err;
    }
    if (!row || !ok) {
      attempt.failed();
      this.o.logger.info({ ip }, 'login failed');
      throw unauthorized('wrong email or password', ErrorCode.InvalidCredentials);
    }
    attempt.succeeded();
    const user = row;
    return this.o.db.transaction().execute((tx) => this.#signIn(tx, user, randomUUID()));
  }

  async refresh(refreshToken: string | undefined): Promise<SignedIn> {
    if (!refreshToken) throw unauthorized('no session; sign in');
    const tokenHash = hashToken(refreshToken);
    const outcome = await this.o.db
      .transaction()
      .execute<{ signedIn: SignedIn } | { error: AppError; endSession?: string }>(async (tx) => {
        // Locked: a concurrent exchange of the same token waits here, then sees it used.
        const token = await tx
          .selectFrom('refresh_tokens')
          .selectAll()
          .where('token_hash', '=', tokenHash)
          .forUpdate()
          .executeTakeFirst();
        if (!token || token.revoked_at) return { error: unauthorized('session ended; sign in again') };
        if (new Date(token.expires_at) <= new Date()) {
          return { error: unauthorized('session expired; sign in again') };
        }
        if (token.used_at) {
          // Two tabs refreshing at once both present the same token; the one that lost the race
          // moments ago is not a thief. Give it a token of the same family — once: a third
          // presentation (or a replay racing the second tab) is reuse.
          const withinGrace = Date.now() - new Date(token.used_at).getTime() <= this.o.refreshReuseGraceSeconds * 1000;
          if (withinGrace && !token.grace_used_at) {
            await tx
              .updateTable('refresh_tokens')
              .set({ grace_used_at: new Date() })
              .where('id', '=', token.id)
              .execute();
            return { signedIn: await this.#signInUser(tx, token.user_id, token.family_id) };
          }
          await tx
            .updateTable('refresh_tokens')
            .set({ revoked_at: new Date() })
            .where('family_id', '=', token.family_id)
            .where('revoked_at', 'is', null)
            .execute();
          this.o.logger.warn(
            { userId: token.user_id, family: token.family_id },
            'refresh token reused; family revoked',
          );
          return {
            error: unauthorized(
              'this session was used elsewhere and has been ended; sign in again',
              ErrorCode.RefreshTokenReused,
            ),
            endSession: token.family_id,
          };
        }
        await tx.updateTable('refresh_tokens').set({ used_at: new Date() }).where('id', '=', token.id).execute();
        return { signedIn: await this.#signInUser(tx, token.user_id, token.family_id) };
      });
    if ('error' in outcome) {
      // The stolen family's access tokens and connections end too, not only its refresh tokens.
      if (outcome.endSession) await this.#endSession(outcome.endSession);
      throw outcome.error;
    }
    return outcome.signedIn;
  }

  /**
   * End a session now: the refresh token's whole family, and the session of the access token when
   * one is sent. Their access tokens stop working at once (on every process) and their real-time
   * connections close. Unknown or invalid tokens are ignored: signing out always succeeds.
   */
  async logout(refreshToken: string | undefined, accessToken?: string): Promise<void> {
    const ended = new Set<string>();
    if (refreshToken) {
      const token = await this.o.db
        .selectFrom('refresh_tokens')
        .select(['family_id'])
        .where('token_hash', '=', hashToken(refreshToken))
        .executeTakeFirst();
      if (token) {
        await this.o.db
          .updateTable('refresh_tokens')
          .set({ revoked_at: new Date() })
          .where('family_id', '=', token.family_id)
          .where('revoked_at', 'is', null)
          .execute();
        ended.add(token.family_id);
      }
    }
    if (accessToken) {
      const session = await this.o.accessTokens.verify(accessToken).catch(() => null);
      if (session?.sessionId) ended.add(session.sessionId);
    }
    for (const sessionId of ended) await this.#endSession(sessionId);
  }

  /**
   * Change one's own password: the current one must check out (counted by the login throttle, so
   * it is no way around it); every other session of the account ends, this one stays.
   */
  async changePassword(session: Session, input: ChangePasswordRequest, ip: string): Promise<void> {
    if (session.isGuest) throw forbidden('guests have no password; sign up first');
    const row = await this.o.db.selectFrom('users').selectAll().where('id', '=', session.userId).executeTakeFirst();
    if (!row) throw notFound('no such account');
    const attempt = this.o.loginThrottle.begin(row.email, ip);
    let ok: boolean;
    try {
      ok = await this.o.hashing.login.run(() => this.o.hasher.verify(input.currentPassword, row.password_hash));
    } catch (err) {
      attempt.cancel();
      throw err;
    }
    if (!ok) {
      attempt.failed();
      throw unauthorized('the current password is wrong', ErrorCode.InvalidCredentials);
    }
    attempt.succeeded();
    const passwordHash = await this.o.hashing.register.run(() => this.o.hasher.hash(input.newPassword));
    await this.o.db
      .updateTable('users')
      .set({ password_hash: passwordHash, updated_at: new Date() })
      .where('id', '=', row.id)
      .execute();
    await this.endUserSessions(
      row.id as UserId,
      'your password was changed; sign in again',
      session.sessionId ?? undefined,
    );
    this.o.logger.info({ userId: row.id }, 'password changed');
  }

  async #endSession(sessionId: string, message?: string): Promise<void> {
    await this.o.accessTokens.revoke(sessionId);
    this.o.logger.info({ session: sessionId }, 'session ended');
    this.emit('session-ended', { sessionId, message });
  }

  /**
   * Sign an account out everywhere: every refresh-token family that may still be alive is revoked,
   * their access tokens are refused (on every process) and their real-time connections close.
   * `except` (a session id) stays signed in: the one that changed its own password. Returns how many
   * sessions ended.
   */
  async endUserSessions(userId: UserId, message: string, except?: string): Promise<number> {
    let families = this.o.db
      .selectFrom('refresh_tokens')
      .select('family_id')
      .distinct()
      .where('user_id', '=', userId)
      .where('expires_at', '>', new Date());
    let revoke = this.o.db
      .updateTable('refresh_tokens')
      .set({ revoked_at: new Date() })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null);
    if (except) {
      families = families.where('family_id', '<>', except);
      revoke = revoke.where('family_id', '<>', except);
    }
    const ended = await families.execute();
    await revoke.execute();
    for (const f of ended) await this.#endSession(f.family_id, message);
    return ended.length;
  }

  /**
   * Give an account a role (admins only). The platform's last admin (counting only those not
   * suspended) cannot lose the role. Someone who loses `moderator` or `admin` is signed out
   * everywhere, so no token or connection keeps the old power. Recorded in the audit trail.
   */
  async setRole(
    actor: Session,
    userId: UserId,
    role: Role,
    o: { reason?: string; requestId?: string | null } = {},
  ): Promise<User> {
    if (actor.role !== 'admin') throw forbidden('only an admin can change roles');
    const { row, previous } = await this.o.db.transaction().execute(async (tx) => {
      // Every admin row locked: two admins demoting each other at once cannot both pass the count.
      const admins = await tx
        .selectFrom('users')
        .select('id')
        .where('role', '=', 'admin')
        .orderBy('id')
        .forUpdate()
        .execute();
      const target = await tx.selectFrom('users').selectAll().where('id', '=', userId).forUpdate().executeTakeFirst();
      if (!target) throw notFound('no such account');
      if (target.role === role) return { row: target, previous: target.role };
      if (target.role === 'admin') {
        const others = admins.filter((a) => a.id !== userId).map((a) => a.id);
        const suspended = others.length
          ? await tx
              .selectFrom('suspensions')
              .select('user_id')
              .where('user_id', 'in', others)
              .where((eb) => eb.or([eb('until', 'is', null), eb('until', '>', new Date())]))
              .execute()
          : [];
        if (others.length - suspended.length === 0) {
          throw conflict('the platform needs at least one admin; make another admin first', ErrorCode.LastAdmin);
        }
      }
      const updated = await tx
        .updateTable('users')
        .set({ role, updated_at: new Date() })
        .where('id', '=', userId)
        .returningAll()
        .executeTakeFirstOrThrow();
      await this.o.audit?.record(
        {
          actorId: actor.userId,
          actorRole: actor.role,
          action: 'user.role',
          targetType: 'user',
          targetId: userId,
          reason: o.reason ?? null,
          requestId: o.requestId ?? null,
          details: { from: target.role, to: role },
        },
        tx,
      );
      return { row: updated, previous: target.role };
    });
    if (previous !== role) {
      this.o.logger.info({ actor: actor.userId, userId, from: previous, to: role }, 'role changed');
      // Losing power (admin → anything, moderator → anything but admin): no token may keep it.
      if (previous === 'admin' || (previous === 'moderator' && role !== 'admin')) {
        await this.endUserSessions(userId, `your role changed to ${role}; sign in again`);
      }
    }
    return toUser(row);
  }

  /** An anonymous session that may browse and watch free rooms. */
  async guest(): Promise<{ user: User; accessToken: string; accessTokenExpiresAt: Date }> {
    const id = asUserId(`guest-${randomUUID()}`);
    const displayName = `Guest ${id.slice(6, 10)}`;
    const { token, expiresAt } = await this.o.accessTokens.sign({
      userId: id,
      role: 'guest',
      displayName,
      language: 'en',
      sessionId: id,
    });
    return {
      user: {
        id,
        email: null,
        displayName,
        handle: null,
        role: 'guest',
        language: 'en',
        createdAt: new Date().toISOString(),
      },
      accessToken: token,
      accessTokenExpiresAt: expiresAt,
    };
  }

  async getUser(id: UserId): Promise<User> {
    const row = await this.o.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('no such account');
    return toUser(row);
  }

  async updateMe(session: Session, patch: UpdateMeRequest): Promise<User> {
    if (session.isGuest) throw forbidden('guests have no profile; sign up first');
    if (patch.handle !== undefined) await this.#refuseTakenHandle(patch.handle, session.userId);
    let row: UserRow | undefined;
    try {
      row = await this.o.db
        .updateTable('users')
        .set({
          ...(patch.displayName !== undefined ? { display_name: patch.displayName } : {}),
          ...(patch.language !== undefined ? { language: patch.language } : {}),
          ...(patch.handle !== undefined ? { handle: patch.handle } : {}),
          updated_at: new Date(),
        })
        .where('id', '=', session.userId)
        .returningAll()
        .executeTakeFirst();
    } catch (err) {
      if (patch.handle !== undefined && isUniqueViolation(err, 'users_handle_key')) throw handleTaken(patch.handle);
      throw err;
    }
    if (!row) throw notFound('no such account');
    return toUser(row);
  }

  /** Admin only: give an account a role, or put a streamer under a studio. */
  async adminUpdate(
    actor: Session,
    userId: UserId,
    patch: AdminUpdateUserRequest,
    o: { requestId?: string } = {},
  ): Promise<User> {
    if (actor.role !== 'admin') throw forbidden('only an admin can change roles');
    if (patch.studioId) {
      const studio = await this.o.db
        .selectFrom('users')
        .select('role')
        .where('id', '=', patch.studioId)
        .executeTakeFirst();
      if (studio?.role !== 'studio') throw badRequest('studioId must be an account with the studio role');
      if (patch.studioId === userId) throw badRequest('a studio cannot manage itself');
    }
    if (patch.role !== undefined) await this.setRole(actor, userId, patch.role, o);
    if (patch.studioId === undefined) return this.getUser(userId);
    const row = await this.o.db
      .updateTable('users')
      .set({ studio_id: patch.studioId, updated_at: new Date() })
      .where('id', '=', userId)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw notFound('no such account');
    this.o.logger.info({ actor: actor.userId, userId, ...patch }, 'account changed by admin');
    return toUser(row);
  }

  async #signInUser(tx: Kysely<Database>, userId: string, familyId: string): Promise<SignedIn> {
    const row = await tx.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirstOrThrow();
    return this.#signIn(tx, row, familyId);
  }

  async #signIn(tx: Kysely<Database>, row: UserRow, familyId: string): Promise<SignedIn> {
    // A suspended account signs in nowhere (login, refresh): told why and until when.
    const suspension = await activeSuspension(tx, row.id);
    if (suspension) throw suspendedError(suspension);
    const refreshToken = randomBytes(32).toString('base64url');
    const refreshTokenExpiresAt = new Date(Date.now() + this.o.refreshTokenTtlDays * 86_400_000);
    await tx
      .insertInto('refresh_tokens')
      .values({
        id: randomUUID(),
        user_id: row.id,
        family_id: familyId,
        token_hash: hashToken(refreshToken),
        expires_at: refreshTokenExpiresAt,
      })
      .execute();
    const user = toUser(row);
    const { token, expiresAt } = await this.o.accessTokens.sign({
      userId: user.id,
      role: user.role,
      displayName: user.displayName,
      language: user.language,
      sessionId: familyId,
    });
    return { user, accessToken: token, accessTokenExpiresAt: expiresAt, refreshToken, refreshTokenExpiresAt };
  }
}
