import { z } from 'zod';
import { Handle } from './handle.js';
import { UserId } from './ids.js';
import { text } from './text.js';

/** Account roles. `studio` manages a group of streamers; `moderator` and `admin` govern the platform. */
export const Role = z.enum(['viewer', 'streamer', 'studio', 'moderator', 'admin']);
export type Role = z.infer<typeof Role>;

/** Roles a person may pick when signing up; the others are granted by an admin. */
export const SelfServiceRole = z.enum(['viewer', 'streamer']);
export type SelfServiceRole = z.infer<typeof SelfServiceRole>;

/** A session's role: an account role, or `guest` for an anonymous session that may watch free rooms. */
export const SessionRole = z.enum([...Role.options, 'guest']);
export type SessionRole = z.infer<typeof SessionRole>;

/** A BCP 47 language tag, simplified: `en`, `es`, `pt-BR`. */
export const Language = text().regex(/^[a-z]{2,3}(-[A-Z]{2})?$/, 'language must look like "en" or "pt-BR"');
export type Language = z.infer<typeof Language>;

export const Email = text().trim().toLowerCase().max(254).pipe(z.email('email must be a valid address'));
export const Password = text().min(8, 'password must be at least 8 characters').max(256);
export const DisplayName = text().trim().min(1, 'display name must not be empty').max(50);

export const RegisterRequest = z.strictObject({
  email: Email,
  password: Password,
  displayName: DisplayName,
  /** The channel's address (`/c/<handle>`); derived from the display name when absent. */
  handle: Handle.optional(),
  role: SelfServiceRole.optional(),
  language: Language.optional(),
});
export type RegisterRequest = z.infer<typeof RegisterRequest>;

export const LoginRequest = z.strictObject({
  email: Email,
  password: text().min(1).max(256),
});
export type LoginRequest = z.infer<typeof LoginRequest>;

/** Change one's own password: the current one proves it is the owner, not a borrowed session. */
export const ChangePasswordRequest = z.strictObject({
  currentPassword: text().min(1).max(256),
  newPassword: Password,
});
export type ChangePasswordRequest = z.infer<typeof ChangePasswordRequest>;

/** "Forgot password": the answer is the same whether or not an account has this email. */
export const PasswordResetRequest = z.strictObject({ email: Email });
export type PasswordResetRequest = z.infer<typeof PasswordResetRequest>;

/** The token from the reset link (the URL's fragment) and the new password. */
export const PasswordResetConfirm = z.strictObject({
  token: text()
    .min(20)
    .max(128)
    .regex(/^[A-Za-z0-9_-]+$/, 'token must be the one from the link'),
  newPassword: Password,
});
export type PasswordResetConfirm = z.infer<typeof PasswordResetConfirm>;

/** What sign-in offers: a reset link by email only when the server can send email (SMTP_URL). */
export const AuthOptionsResponse = z.object({ passwordResetByEmail: z.boolean() });
export type AuthOptionsResponse = z.infer<typeof AuthOptionsResponse>;

/** An admin's reset link for an account (to hand over when the server sends no email). */
export const AdminPasswordResetResponse = z.object({ resetUrl: text(), expiresAt: text() });
export type AdminPasswordResetResponse = z.infer<typeof AdminPasswordResetResponse>;

export const UpdateMeRequest = z
  .strictObject({
    displayName: DisplayName.optional(),
    language: Language.optional(),
    /** A new channel address; the old one stops working (409 handle_taken when someone has it). */
    handle: Handle.optional(),
  })
  .refine((v) => v.displayName !== undefined || v.language !== undefined || v.handle !== undefined, {
    message: 'give at least one of displayName, language, handle',
  });
export type UpdateMeRequest = z.infer<typeof UpdateMeRequest>;

/**
 * Admin-only: grant an account a role (studio, moderator and admin are never self-service) and/or
 * put a streamer under a studio (null takes them out).
 */
export const AdminUpdateUserRequest = z
  .strictObject({ role: Role.optional(), studioId: UserId.nullable().optional() })
  .refine((v) => v.role !== undefined || v.studioId !== undefined, { message: 'give role and/or studioId' });
export type AdminUpdateUserRequest = z.infer<typeof AdminUpdateUserRequest>;

export const User = z.object({
  id: UserId,
  email: text().nullable(),
  displayName: text(),
  /** The account's channel address (`/c/<handle>`), lowercase; null for guests. */
  handle: text().nullable(),
  role: SessionRole,
  language: text(),
  /** The studio that manages this streamer (accounts only). */
  studioId: UserId.nullable().optional(),
  createdAt: text(),
});
export type User = z.infer<typeof User>;

export const AuthResponse = z.object({
  user: User,
  accessToken: text(),
  /** ISO time the access token expires; refresh before then with `POST /api/auth/refresh`. */
  accessTokenExpiresAt: text(),
});
export type AuthResponse = z.infer<typeof AuthResponse>;

/** Claims of the control plane's access token (HS256, short-lived). */
export interface AccessClaims {
  sub: string;
  role: SessionRole;
  name: string;
  lang: string;
  /** The session (sign-in) the token belongs to: signing out refuses every token of it. */
  sid?: string;
}
