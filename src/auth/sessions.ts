// Sessions: one per login, the family of refresh tokens descended from it. A session keeps only
// its current refresh token's id and the immediate parent's; a refresh rotates them under a row
// lock, and presenting any older token of the family is reuse, which ends the session (RFC 9700
// §4.14.2). A credential change retires the parent at once (no grace window) and bumps the
// session's generation, which outdates the access tokens issued before it. Every write here is one
// transaction, and every change to who may act is announced to the other instances inside it
// (invalidation.ts).
// The only writer of `sessions`: its rows are inserted and updated here, or by SQL from here (a
// login's statement takes openSessionSql; a refresh runs refresh-statement.ts, this module's own).
import { randomUUID } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../config.js';
import { Session, TokenTransport, User } from '../db/entities/index.js';
import { type AuthObserver, NO_AUTH_OBSERVER } from '../observability/metrics.js';
import { AuthEventKind, recordAuthEvent } from './audit.js';
import { AuthError, AuthFailure } from './auth-error.js';
import { addPurgeCounts, deleteInBatches, ormBatch, type PurgeCount, type PurgeOptions } from './batched-delete.js';
import { credentialTag } from './credential-tag.js';
import { type Invalidation, withInvalidations } from './invalidation.js';
import type { PrincipalService } from './principal.js';
import type { RequestMeta, ViewerRef } from './request-meta.js';
import { type RefreshStatement, RefreshVerdict } from './refresh-statement.js';
import { overLimit, type Throttle, ThrottledAction } from './throttle.js';
import { checkTokenSource, FROM_BODY_OR_HEADER, newCsrfValue, type TokenSource } from './token-transport.js';
import type { DeviceClaims, TokenService } from './tokens.js';
import { type AuthLevel, type AuthMethod, nowSeconds, PASSWORD_ONLY } from './tokens.js';
import { toUserView, type UserView } from './user-view.js';

// The purge's two batches, oldest rows first, through sessions_expires_at_index and the partial
// sessions_revoked_at_index. The outer condition is checked again on a row a refresh changed meanwhile.
export const SESSION_PURGE_EXPIRED_SQL = `delete from sessions where expires_at < ? and id = any(array(
    select id from sessions where expires_at < ? order by expires_at limit ?))`;
export const SESSION_PURGE_REVOKED_SQL = `delete from sessions where revoked_at < ? and id = any(array(
    select id from sessions where revoked_at < ? order by revoked_at limit ?))`;

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  /** Seconds until the access token expires. */
  expiresIn: number;
  /** Seconds until the refresh token expires. */
  refreshExpiresIn: number;
  user: UserView;
  sessionId: string;
  /** The session's: with COOKIE, the tokens are for the cookies (and the body holds the access token only). */
  transport: TokenTransport;
  /** COOKIE only: the `csrf` claim of the refresh token, for its companion cookie. */
  refreshCsrf?: string;
  /** COOKIE with JWT_TOKEN_LOCATION=cookies only: the access token's `csrf` claim. */
  accessCsrf?: string;
  /** Issued where the password was just proven (signup, login): see recogniseDevice. */
  deviceToken?: string;
}

export enum LogoutScope {
  CURRENT = 'CURRENT',
  OTHERS = 'OTHERS',
  ALL = 'ALL',
}

export enum RevocationReason {
  LOGOUT = 'LOGOUT',
  REVOKED = 'REVOKED',
  REFRESH_TOKEN_REUSED = 'REFRESH_TOKEN_REUSED',
  PASSWORD_CHANGED = 'PASSWORD_CHANGED',
  PASSWORD_RESET = 'PASSWORD_RESET',
  ACCOUNT_DISABLED = 'ACCOUNT_DISABLED',
  INACTIVE = 'INACTIVE',
  /** An ADMIN ended the user's sessions (revokeUserSessions). */
  ADMIN_REVOKED = 'ADMIN_REVOKED',
}

const USER_AGENT_MAX = 512;

/** A session's row as a login's statement writes it (openSessionSql). */
export interface NewSessionRow {
  id: string;
  refreshJti: string;
  createdAt: Date;
  expiresAt: Date;
  userAgent: string | null;
  ip: string | null;
  transport: TokenTransport;
  aal: number;
  amr: string[];
}

/** The placeholders of `openSessionSql`. */
export interface OpenSessionParams {
  sessionId: string;
  refreshJti: string;
  sessionStart: Date;
  sessionEnd: Date;
  userAgent: string | null;
  sessionIp: string | null;
  sessionTransport: TokenTransport;
  sessionAal: number;
  sessionAmr: string[];
}

/**
 * An insert (for a WITH list) opening the session `row` for each user that `users` (a CTE
 * returning `id`, with its condition) yields; it returns the session's `id`.
 */
export function openSessionSql(users: string): string {
  return `insert into sessions (id, user_id, refresh_jti, created_at, last_used_at, expires_at, user_agent, ip, transport, aal, amr)
    select :sessionId, id, :refreshJti, :sessionStart, :sessionStart, :sessionEnd, :userAgent, :sessionIp, :sessionTransport, :sessionAal, :sessionAmr
    from ${users}
    returning id`;
}

export function openSessionParams(row: NewSessionRow): OpenSessionParams {
  return {
    sessionId: row.id,
    refreshJti: row.refreshJti,
    sessionStart: row.createdAt,
    sessionEnd: row.expiresAt,
    userAgent: row.userAgent,
    sessionIp: row.ip,
    sessionTransport: row.transport,
    sessionAal: row.aal,
    sessionAmr: row.amr,
  };
}

export class SessionService {
  constructor(
    private readonly tokens: TokenService,
    private readonly principals: PrincipalService,
    private readonly jwt: Config['jwt'],
    private readonly settings: Config['sessions'],
    private readonly throttle: Throttle,
    private readonly refreshStatement: RefreshStatement,
    private readonly observer: AuthObserver = NO_AUTH_OBSERVER,
  ) {}

  /** Queues a new session for `user` on `em` and returns fresh tokens for it. */
  open(em: EntityManager, user: User, meta: RequestMeta, transport: TokenTransport): IssuedTokens {
    const row = this.newSessionRow(meta, transport);
    em.persist(em.create(Session, { ...row, user, lastUsedAt: row.createdAt }));
    return this.issueFirst(row, toUserView(user), user.passwordHash);
  }

  /**
   * A new session's row, for a statement that writes it; `issueFirst` signs its tokens once
   * written. `id` is given when a challenge named the session before it existed (completeMfaLogin).
   */
  newSessionRow(
    meta: RequestMeta,
    transport: TokenTransport,
    level: AuthLevel = PASSWORD_ONLY,
    id: string = randomUUID(),
  ): NewSessionRow {
    const now = new Date();
    return {
      id,
      refreshJti: randomUUID(),
      createdAt: now,
      expiresAt: new Date((nowSeconds() + this.jwt.refreshTokenTtlSeconds) * 1000),
      userAgent: meta.userAgent?.slice(0, USER_AGENT_MAX) ?? null,
      ip: meta.ip,
      transport,
      aal: level.aal,
      amr: [...level.amr],
    };
  }

  /**
   * The first (fresh) token pair of a session written from `newSessionRow`, and a device token
   * for the password (its stored hash) just proven.
   */
  issueFirst(row: NewSessionRow, user: UserView, passwordHash: string): IssuedTokens {
    const device = this.tokens.signDeviceToken({ sub: user.id, sid: row.id, cred: credentialTag(passwordHash) });
    const pair = this.signPair(row, user, true, 0, row.refreshJti);
    return { ...pair.tokens, deviceToken: device.token };
  }

  /**
   * The device token a login presents, when it passes every check; otherwise undefined, and the
   * login is judged like any other (a device token is a privilege, never a requirement).
   */
  recogniseDevice(token: string | null | undefined): DeviceClaims | undefined {
    if (!token) return undefined;
    try {
      return this.tokens.verifyDeviceToken(token);
    } catch (error) {
      if (error instanceof AuthError) return undefined;
      throw error;
    }
  }

  /**
   * Exchanges a refresh token for a new pair. The attempt is counted against the IP in the same
   * round trip as one statement (refresh-statement.ts) that decides under the session's row lock,
   * so concurrent refreshes of one session queue up: the first rotates, the rest see its result.
   * A refresh past the IP's budget, a token that does not verify, or one presented from the wrong
   * place or from the cookie without its CSRF value, is counted and rotates nothing.
   */
  async refresh(
    refreshToken: string,
    meta: RequestMeta,
    source: TokenSource = FROM_BODY_OR_HEADER,
  ): Promise<IssuedTokens> {
    let claims;
    try {
      claims = this.tokens.verifyRefreshToken(refreshToken);
      checkTokenSource(claims.csrf, source, 'refresh');
    } catch (error) {
      // Counted all the same; past the budget, the budget's answer comes first.
      await this.throttle.consumeIp(ThrottledAction.REFRESH, meta.ip);
      // A refresh token's expiry is its session's end (or earlier): say so.
      if (error instanceof AuthError && error.reason === AuthFailure.TOKEN_EXPIRED) throw sessionExpired();
      throw error;
    }
    const at = new Date();
    const idle = this.settings.inactivityTimeoutSeconds;
    const attempt = this.throttle.ipAttempt(ThrottledAction.REFRESH, meta.ip);
    const decision = await this.refreshStatement.decide({
      sessionId: claims.sid,
      userId: claims.sub,
      jti: claims.jti,
      nextJti: randomUUID(),
      ipAddress: meta.ip,
      at,
      idleBefore: idle > 0 ? new Date(at.getTime() - idle * 1000) : null,
      graceSince: new Date(at.getTime() - this.jwt.refreshReuseIntervalSeconds * 1000),
      revokedReasons: { expired: RevocationReason.INACTIVE, reused: RevocationReason.REFRESH_TOKEN_REUSED },
      attempt,
    });
    if (decision.verdict === RefreshVerdict.THROTTLED) throw overLimit(decision.count, attempt.now);
    // Committed: the rotation or revocation (if any) stands whatever the caller gets.
    this.principals.invalidateSession(claims.sid);
    switch (decision.verdict) {
      case RefreshVerdict.ROTATED:
      case RefreshVerdict.GRACE: {
        // GRACE: an honest race (two tabs, a lost response) gets the current generation again,
        // under the same jti, so the family still has exactly one live refresh token.
        const { session } = decision;
        const { tokens } = this.signPair(session, session.user, false, session.generation, session.refreshJti);
        this.observer.refreshIssued(decision.verdict === RefreshVerdict.GRACE);
        return tokens;
      }
      case RefreshVerdict.EXPIRED:
        this.observer.sessionsRevoked(RevocationReason.INACTIVE, 1);
        throw sessionExpired();
      case RefreshVerdict.RETIRED:
        // Retired by a credential change the session's holder made: refused, but not reuse, so
        // the pair that change issued keeps working.
        throw new AuthError(AuthFailure.TOKEN_REVOKED, 'This refresh token was retired');
      case RefreshVerdict.REUSED:
        this.observer.sessionsRevoked(RevocationReason.REFRESH_TOKEN_REUSED, 1);
        throw new AuthError(
          AuthFailure.REFRESH_TOKEN_REUSED,
          'This refresh token was already used: the session has been ended',
        );
      default:
        throw revoked();
    }
  }

  /**
   * Fresh tokens for the viewer's own session, after they proved their password again; `level`
   * as in reissueFreshIn.
   */
  async reissueFresh(
    em: EntityManager,
    sessionId: string,
    meta: RequestMeta,
    event: AuthEventKind,
    level?: AuthLevel,
  ): Promise<IssuedTokens> {
    return withInvalidations(em, this.principals, async (tx) => ({
      result: await this.reissueFreshIn(tx, sessionId, meta, event, level),
      invalidations: [{ session: sessionId }],
    }));
  }

  /**
   * reissueFresh inside the caller's transaction; the caller announces the session's change.
   * `level`, when given, is the session's new level (a second factor was just proven). `fresh`
   * false re-issues at that level without the freshness (a step-up proved no password).
   */
  async reissueFreshIn(
    tx: EntityManager,
    sessionId: string,
    meta: RequestMeta,
    event: AuthEventKind,
    level?: AuthLevel,
    fresh = true,
  ): Promise<IssuedTokens> {
    const session = await tx.findOne(
      Session,
      { id: sessionId, revokedAt: null },
      { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
    );
    if (!session) throw revoked();
    const user = await tx.findOneOrFail(User, { id: session.user.id });
    session.previousRefreshJti = session.refreshJti;
    session.rotatedAt = null;
    session.generation++;
    session.lastUsedAt = new Date();
    if (level) {
      session.aal = level.aal;
      session.amr = [...level.amr];
    }
    recordAuthEvent(tx, { type: event, userId: user.id, sessionId, ip: meta.ip });
    return this.issue(session, user, fresh);
  }

  async logout(em: EntityManager, viewer: ViewerRef, scope: LogoutScope, meta: RequestMeta): Promise<void> {
    await withInvalidations(em, this.principals, async (tx) => {
      const where =
        scope === LogoutScope.CURRENT
          ? { id: viewer.sessionId }
          : scope === LogoutScope.OTHERS
            ? { user: viewer.userId, id: { $ne: viewer.sessionId } }
            : { user: viewer.userId };
      const ended = await this.revokeWhere(tx, where, RevocationReason.LOGOUT);
      recordAuthEvent(tx, {
        type: AuthEventKind.LOGOUT,
        userId: viewer.userId,
        sessionId: viewer.sessionId,
        ip: meta.ip,
      });
      return { result: undefined, invalidations: ended };
    });
  }

  /** Ends one of the user's own sessions; false when they have no such live session. */
  async revokeOwn(em: EntityManager, userId: string, sessionId: string, meta: RequestMeta): Promise<boolean> {
    return withInvalidations(em, this.principals, async (tx) => {
      const ended = await this.revokeWhere(tx, { id: sessionId, user: userId }, RevocationReason.REVOKED);
      if (ended.length > 0)
        recordAuthEvent(tx, { type: AuthEventKind.SESSION_REVOKED, userId, sessionId, ip: meta.ip });
      return { result: ended.length > 0, invalidations: ended };
    });
  }

  /**
   * Ends every live session of `userId` except `keepSessionId`, inside the caller's transaction
   * (password change, deactivation). Returns the invalidations to announce.
   */
  revokeAllOfUser(
    tx: EntityManager,
    userId: string,
    reason: RevocationReason,
    keepSessionId?: string,
  ): Promise<Invalidation[]> {
    const where = keepSessionId ? { user: userId, id: { $ne: keepSessionId } } : { user: userId };
    return this.revokeWhere(tx, where, reason);
  }

  /** Back to the password alone (two-factor was turned off): the session's next tokens say aal 1. */
  async lowerToPasswordOnly(tx: EntityManager, sessionId: string): Promise<void> {
    await tx.nativeUpdate(Session, { id: sessionId }, { aal: PASSWORD_ONLY.aal, amr: [...PASSWORD_ONLY.amr] });
  }

  /**
   * Retires the parent refresh token of each live session of `userId` (an admin changed the
   * account): presenting one gets TOKEN_REVOKED and leaves the session alive.
   */
  async endGraceWindows(tx: EntityManager, userId: string): Promise<void> {
    await tx.nativeUpdate(
      Session,
      { user: userId, revokedAt: null, previousRefreshJti: { $ne: null } },
      { rotatedAt: null },
    );
  }

  /** The user's live sessions, most recently used first. */
  async listLive(em: EntityManager, userId: string): Promise<Session[]> {
    const now = new Date();
    const sessions = await em.find(
      Session,
      { user: userId, revokedAt: null, expiresAt: { $gt: now } },
      { orderBy: { lastUsedAt: 'desc', id: 'asc' } },
    );
    return sessions.filter((session) => !this.isInactive(session, now));
  }

  /**
   * Deletes sessions past their absolute end, and revoked ones past the retention period: in
   * batches, one condition at a time so that each is read through its own index.
   */
  async purge(em: EntityManager, options: PurgeOptions = {}): Promise<PurgeCount> {
    const now = Date.now();
    const revokedBefore = new Date(now - this.settings.revokedRetentionSeconds * 1000);
    const expired = await deleteInBatches(
      ormBatch(em, SESSION_PURGE_EXPIRED_SQL, [new Date(now), new Date(now)]),
      options,
    );
    const revoked = await deleteInBatches(
      ormBatch(em, SESSION_PURGE_REVOKED_SQL, [revokedBefore, revokedBefore]),
      options,
    );
    return addPurgeCounts(expired, revoked);
  }

  /** Signs a new token pair for `session` and makes its refresh token the current one. */
  private issue(session: Session, user: User, fresh: boolean, reuseJti?: string): IssuedTokens {
    const { tokens, refreshJti } = this.signPair(session, toUserView(user), fresh, session.generation, reuseJti);
    session.refreshJti = refreshJti;
    return tokens;
  }

  private signPair(
    session: { id: string; expiresAt: Date; transport: TokenTransport; aal: number; amr: string[] },
    user: UserView,
    fresh: boolean,
    gen: number,
    jti?: string,
  ): { tokens: IssuedTokens; refreshJti: string } {
    const { id: sessionId, transport } = session;
    const cookies = transport === TokenTransport.COOKIE;
    const refreshCsrf = cookies ? newCsrfValue() : undefined;
    const accessCsrf = cookies && this.jwt.tokenLocation.includes('cookies') ? newCsrfValue() : undefined;
    const access = this.tokens.signAccessToken(
      {
        sub: user.id,
        sid: sessionId,
        roles: [...user.roles],
        fresh,
        gen,
        aal: session.aal === 2 ? 2 : 1,
        amr: session.amr as AuthMethod[],
        ...(accessCsrf && { csrf: accessCsrf }),
      },
      user,
    );
    const refresh = this.tokens.signRefreshToken(
      { sub: user.id, sid: sessionId, ...(refreshCsrf && { csrf: refreshCsrf }) },
      session.expiresAt.getTime() / 1000,
      jti,
    );
    const now = nowSeconds();
    const tokens: IssuedTokens = {
      accessToken: access.token,
      refreshToken: refresh.token,
      expiresIn: access.expiresAt - now,
      refreshExpiresIn: refresh.expiresAt - now,
      user,
      sessionId,
      transport,
      ...(refreshCsrf && { refreshCsrf }),
      ...(accessCsrf && { accessCsrf }),
    };
    return { tokens, refreshJti: refresh.jti };
  }

  /** Revokes the live sessions matching `where`; returns one invalidation per session ended. */
  private async revokeWhere(
    tx: EntityManager,
    where: Record<string, unknown>,
    reason: RevocationReason,
  ): Promise<Invalidation[]> {
    const sessions = await tx.find(Session, { ...where, revokedAt: null }, { fields: ['id'] });
    if (sessions.length === 0) return [];
    const ids = sessions.map((session) => session.id);
    await tx.nativeUpdate(Session, { id: { $in: ids } }, { revokedAt: new Date(), revokedReason: reason });
    this.observer.sessionsRevoked(reason, ids.length);
    return ids.map((id) => ({ session: id }));
  }

  private isInactive(session: Session, now: Date): boolean {
    const timeout = this.settings.inactivityTimeoutSeconds;
    return timeout > 0 && session.lastUsedAt.getTime() + timeout * 1000 <= now.getTime();
  }
}

function revoked(): AuthError {
  return new AuthError(AuthFailure.TOKEN_REVOKED, 'This session has ended');
}

function sessionExpired(): AuthError {
  return new AuthError(AuthFailure.SESSION_EXPIRED, 'This session has expired: log in again');
}
