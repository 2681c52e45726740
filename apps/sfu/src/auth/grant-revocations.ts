/** The longest grant lifetime the control plane can issue (GRANT_TTL_SECONDS allows up to a day). */
const KEEP_SECONDS = 24 * 3600;

const keyOf = (userId: string, room: string | null) => `${room ?? '*'}\n${userId}`;

/**
 * Grants the control plane revoked (a room ban; later a platform suspension): every grant of a
 * user for a room — or for every room — issued up to a time is refused, so a kicked viewer cannot
 * come back with the grant they already hold. Grants issued later (after an unban) pass. The time
 * is the control plane's (`iat` comes from its clock too), so clock skew between the two cannot
 * open a gap. An entry is kept as long as a grant it covers could still be valid.
 */
export class GrantRevocations {
  /** key → issued-before (unix seconds), in insertion order (oldest first). */
  readonly #entries = new Map<string, { issuedBefore: number; at: number }>();

  constructor(private readonly now: () => number = () => Date.now()) {}

  get size(): number {
    return this.#entries.size;
  }

  /** Refuse the user's grants for `room` (null: every room) issued at or before `issuedBefore` (unix s). */
  revoke(userId: string, room: string | null, issuedBefore: number): void {
    const key = keyOf(userId, room);
    const previous = this.#entries.get(key)?.issuedBefore ?? 0;
    this.#entries.delete(key);
    this.#entries.set(key, { issuedBefore: Math.max(previous, issuedBefore), at: this.now() });
    this.#prune();
  }

  /** Was this grant (user, room, `iat` in unix seconds) revoked? */
  revoked(userId: string, room: string, issuedAt: number): boolean {
    const inRoom = this.#entries.get(keyOf(userId, room));
    const everywhere = this.#entries.get(keyOf(userId, null));
    return (
      (inRoom !== undefined && issuedAt <= inRoom.issuedBefore) ||
      (everywhere !== undefined && issuedAt <= everywhere.issuedBefore)
    );
  }

  #prune(): void {
    const horizon = this.now() - KEEP_SECONDS * 1000;
    for (const [key, entry] of this.#entries) {
      if (entry.at >= horizon) break;
      this.#entries.delete(key);
    }
  }
}
