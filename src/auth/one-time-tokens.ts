// The tokens mailed as links: email verification, password reset, email change. The only writer
// of `one_time_tokens`. A token is 256 random bits, kept only as its SHA-256, good once, for one
// purpose and one user; a new one of the same purpose retires the previous.
import type { EntityManager } from '@mikro-orm/postgresql';
import { createHash, randomBytes } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import { OneTimeToken, type OneTimeTokenPurpose, User } from '../db/entities/index.js';
import { AuthFailure, mailedTokenRefused } from './auth-error.js';

/** A base64url token of 32 bytes is 43 characters; anything much longer is not one of ours. */
const MAX_TOKEN_LENGTH = 128;
/** An expired token still answers TOKEN_EXPIRED for this long, then it is purged and unknown. */
export const EXPIRED_RETENTION_MS = 24 * 3600 * 1000;

export interface RedeemedToken {
  readonly userId: string;
  /** The address the link was sent to. */
  readonly email: string;
}

function hashOf(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The stored hash of a mailed token; TOKEN_INVALID for what cannot be one of ours. */
export function mailedTokenHash(token: string): string {
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) throw mailedTokenRefused(AuthFailure.TOKEN_INVALID);
  return hashOf(token);
}

/** A new token and the hash that is stored of it. */
export function newOneTimeToken(): { token: string; tokenHash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, tokenHash: hashOf(token) };
}

/** The placeholders of `issueTokenSql`. */
export interface IssueTokenParams {
  tokenId: string;
  tokenPurpose: OneTimeTokenPurpose;
  tokenHash: string;
  tokenAt: Date;
  tokenExpiresAt: Date;
}

/**
 * Two entries for a WITH list: the `retired` delete of the previous tokens of `:tokenPurpose` and
 * the `issued` insert of the new one, for each user `users` (a CTE with `id` and `email`, and its
 * condition) yields: the statement-level twin of issue(), for a hand-written statement.
 */
export function issueTokenSql(users: string): string {
  return `retired as (
      delete from one_time_tokens where purpose = :tokenPurpose and user_id in (select id from ${users})
    ), issued as (
      insert into one_time_tokens (id, user_id, purpose, token_hash, email, created_at, expires_at)
      select :tokenId, id, :tokenPurpose, :tokenHash, email, :tokenAt, :tokenExpiresAt from ${users}
    )`;
}

export class OneTimeTokens {
  /**
   * A new token for `userId`, queued in `tx`'s unit of work, retiring the user's previous ones of
   * this purpose. Returns the token: it goes into the mail and nowhere else.
   */
  async issue(
    tx: EntityManager,
    userId: string,
    purpose: OneTimeTokenPurpose,
    email: string,
    ttlSeconds: number,
  ): Promise<string> {
    await this.retire(tx, userId, [purpose]);
    const { token, tokenHash } = newOneTimeToken();
    tx.persist(
      tx.create(OneTimeToken, {
        user: tx.getReference(User, userId),
        purpose,
        tokenHash,
        email,
        expiresAt: new Date(Date.now() + ttlSeconds * 1000),
      }),
    );
    return token;
  }

  /**
   * What a token would redeem, without using it: for checks that must pass before anything is
   * written (the new password's policy). Throws the refusal a redeem would.
   */
  async inspect(em: EntityManager, token: string, purpose: OneTimeTokenPurpose): Promise<RedeemedToken> {
    return toRedeemed(await this.find(em, token, purpose, false));
  }

  /** Whether `token` was issued for `purpose` (used up or purged: no), expired or not. */
  async holds(em: EntityManager, token: string, purpose: OneTimeTokenPurpose): Promise<boolean> {
    return (await em.count(OneTimeToken, { tokenHash: mailedTokenHash(token), purpose })) > 0;
  }

  /** Uses the token up inside `tx` (under a row lock, so two redeems cannot both win). */
  async redeem(tx: EntityManager, token: string, purpose: OneTimeTokenPurpose): Promise<RedeemedToken> {
    const row = await this.find(tx, token, purpose, true);
    const redeemed = toRedeemed(row);
    await tx.nativeDelete(OneTimeToken, { id: row.id });
    return redeemed;
  }

  /** Retires the user's outstanding tokens of these purposes (all when none is named). */
  async retire(tx: EntityManager, userId: string, purposes?: readonly OneTimeTokenPurpose[]): Promise<void> {
    await tx.nativeDelete(OneTimeToken, {
      user: userId,
      ...(purposes ? { purpose: { $in: [...purposes] } } : {}),
    });
  }

  /** Deletes tokens expired for more than a day; returns how many. */
  async purgeExpired(em: EntityManager): Promise<number> {
    return em.nativeDelete(OneTimeToken, { expiresAt: { $lt: new Date(Date.now() - EXPIRED_RETENTION_MS) } });
  }

  private async find(
    em: EntityManager,
    token: string,
    purpose: OneTimeTokenPurpose,
    lock: boolean,
  ): Promise<OneTimeToken> {
    const row = await em.findOne(
      OneTimeToken,
      { tokenHash: mailedTokenHash(token), purpose },
      lock ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {},
    );
    if (!row) throw mailedTokenRefused(AuthFailure.TOKEN_INVALID);
    if (row.expiresAt.getTime() <= Date.now()) throw mailedTokenRefused(AuthFailure.TOKEN_EXPIRED);
    return row;
  }
}

function toRedeemed(row: OneTimeToken): RedeemedToken {
  return { userId: row.user.id, email: row.email };
}
