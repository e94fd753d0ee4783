// The `mfa+jwt` challenges: what a right password (login, reauthenticate) or a field needing aal 2
// answers for an account with two-factor, and their completion with a code or a recovery code.
// A challenge is good once, for at most MFA_CHALLENGE_ATTEMPTS codes (challenge-attempts.ts), and
// only while the account it was issued for is as it was: same password, active, two-factor on,
// and (purpose `session`) its session still live.
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type pg from 'pg';
import { Session, TokenTransport, User } from '../../db/entities/index.js';
import { AuthEventKind, recordAuthEvent, recordAuthEventNow } from '../audit.js';
import { AuthError, AuthFailure } from '../auth-error.js';
import { credentialTag } from '../credential-tag.js';
import { withInvalidations } from '../invalidation.js';
import type { LoginStatements } from '../login-statements.js';
import type { PrincipalService } from '../principal.js';
import type { RequestMeta, ViewerRef } from '../request-meta.js';
import type { IssuedTokens, SessionService } from '../sessions.js';
import { type AuthLevel, type MfaChallengeClaims, nowSeconds, type TokenService } from '../tokens.js';
import type { ChallengeAttempts } from './challenge-attempts.js';
import type { SecondFactor, SecondFactorProof } from './second-factor.js';

/** What a client needs to complete a challenge (the `extensions` of MFA_REQUIRED). */
export interface ChallengeDetails {
  mfaToken: string;
  /** Seconds until mfaToken expires. */
  mfaExpiresIn: number;
}

export class MfaChallenges {
  constructor(
    private readonly tokens: TokenService,
    private readonly secondFactor: SecondFactor,
    private readonly sessions: SessionService,
    private readonly principals: PrincipalService,
    private readonly statements: LoginStatements,
    private readonly attempts: ChallengeAttempts,
    private readonly pool: pg.Pool,
  ) {}

  /**
   * login's answer once the password was right: MFA_REQUIRED with a challenge naming the session
   * completion will open (none exists until then) and the transport it was asked for.
   */
  async loginChallenge(
    user: { id: string; passwordHash: string },
    transport: TokenTransport,
    meta: RequestMeta,
  ): Promise<AuthError> {
    const details = this.sign({
      sub: user.id,
      sid: randomUUID(),
      pur: 'login',
      cred: credentialTag(user.passwordHash),
      trn: transport,
    });
    await recordAuthEventNow(this.pool, { type: AuthEventKind.MFA_CHALLENGE_ISSUED, userId: user.id, ip: meta.ip });
    return mfaRequired('Enter the code from your authenticator app (completeMfaLogin)', details);
  }

  /**
   * MFA_REQUIRED with a challenge that raises the viewer's own session to aal 2: for reauthenticate
   * (`meta` given: recorded, a password was just proven) and for a field that needs aal 2.
   * `fresh`: whether completing it gives fresh tokens, as after a password (reauthenticate) or a
   * step-up from a fresh token; a step-up from a stale one never makes its holder fresh.
   */
  async sessionChallenge(
    em: EntityManager,
    viewer: ViewerRef,
    fresh: boolean,
    meta?: RequestMeta,
    passwordHash?: string,
  ): Promise<AuthError> {
    const hash =
      passwordHash ?? (await em.findOne(User, { id: viewer.userId }, { fields: ['passwordHash'] }))?.passwordHash;
    if (hash === undefined) return sessionEnded();
    const pur = fresh ? 'session' : 'step-up';
    const details = this.sign({ sub: viewer.userId, sid: viewer.sessionId, pur, cred: credentialTag(hash) });
    if (meta) {
      await recordAuthEventNow(this.pool, {
        type: AuthEventKind.MFA_CHALLENGE_ISSUED,
        userId: viewer.userId,
        ip: meta.ip,
      });
    }
    return mfaRequired('This needs your second factor: complete the challenge (completeMfaLogin)', details);
  }

  /** The level a proof of the second factor raises a session to, once SecondFactor accepted it. */
  async prove(em: EntityManager, userId: string, proof: SecondFactorProof, meta: RequestMeta): Promise<AuthLevel> {
    const method = await this.secondFactor.verify(em, userId, proof, meta);
    return { aal: 2, amr: ['pwd', method] };
  }

  /**
   * completeMfaLogin: opens the session a login challenge named, or re-issues fresh tokens for the
   * session a session challenge named, at aal 2. `cookiesAllowed`: the request's origin may
   * receive the COOKIE transport's cookies.
   */
  async complete(
    em: EntityManager,
    mfaToken: string,
    proof: SecondFactorProof,
    meta: RequestMeta,
    cookiesAllowed: boolean,
  ): Promise<IssuedTokens> {
    const claims = this.tokens.verifyMfaChallenge(mfaToken);
    const user = await em.findOne(User, { id: claims.sub });
    // A new password, or two-factor turned off, voids what was issued under the old state.
    if (!user || credentialTag(user.passwordHash) !== claims.cred || !user.twoFactorEnabledAt) throw challengeVoid();
    if (!user.isActive) throw accountDisabled();
    const transport = claims.pur === 'login' ? claims.trn! : await this.liveSessionTransport(em, claims);
    if (transport === TokenTransport.COOKIE && !cookiesAllowed) {
      throw new AuthError(
        AuthFailure.ORIGIN_NOT_ALLOWED,
        'This origin may not receive cookies from this server: add it to CORS_ORIGINS',
      );
    }
    if (!(await this.attempts.begin(claims))) throw challengeVoid();
    const level = await this.prove(em, user.id, proof, meta);
    if (!(await this.attempts.spend(claims))) throw challengeVoid();
    if (claims.pur === 'login') return this.openSession(em, claims, transport, user.passwordHash, level, meta);
    return withInvalidations(em, this.principals, async (tx) => ({
      result: await this.sessions.reissueFreshIn(
        tx,
        claims.sid,
        meta,
        AuthEventKind.MFA_CHALLENGE_COMPLETED,
        level,
        claims.pur === 'session',
      ),
      invalidations: [{ session: claims.sid }],
    }));
  }

  /** The login's own statement opens the session, so its row lock and same-password check hold here too. */
  private async openSession(
    em: EntityManager,
    claims: MfaChallengeClaims,
    transport: TokenTransport,
    passwordHash: string,
    level: AuthLevel,
    meta: RequestMeta,
  ): Promise<IssuedTokens> {
    const row = this.sessions.newSessionRow(meta, transport, level, claims.sid);
    // The login already cleared its count: nothing to clear again, no rehash to write.
    const completion = await this.statements.complete(null, claims.sub, passwordHash, row, null);
    if (!completion.opened) throw completion.disabled ? accountDisabled() : challengeVoid();
    recordAuthEvent(em, {
      type: AuthEventKind.MFA_CHALLENGE_COMPLETED,
      userId: claims.sub,
      sessionId: row.id,
      ip: meta.ip,
    });
    await em.flush();
    return this.sessions.issueFirst(row, completion.user, passwordHash);
  }

  private async liveSessionTransport(em: EntityManager, claims: MfaChallengeClaims): Promise<TokenTransport> {
    const session = await em.findOne(
      Session,
      { id: claims.sid, user: claims.sub, revokedAt: null, expiresAt: { $gt: new Date() } },
      { fields: ['transport'] },
    );
    if (!session) throw sessionEnded();
    return session.transport;
  }

  private sign(claims: Omit<MfaChallengeClaims, 'jti' | 'iat' | 'exp'>): ChallengeDetails {
    const signed = this.tokens.signMfaChallenge(claims);
    return { mfaToken: signed.token, mfaExpiresIn: signed.expiresAt - nowSeconds() };
  }
}

function mfaRequired(message: string, details: ChallengeDetails): AuthError {
  return new AuthError(AuthFailure.MFA_REQUIRED, message, undefined, { ...details });
}

/** Spent, used up, or issued under a password or two-factor state the account no longer has. */
function challengeVoid(): AuthError {
  return new AuthError(AuthFailure.TOKEN_INVALID, 'This challenge can no longer be used: log in again');
}

function accountDisabled(): AuthError {
  return new AuthError(AuthFailure.ACCOUNT_DISABLED, 'This account is disabled');
}

function sessionEnded(): AuthError {
  return new AuthError(AuthFailure.TOKEN_REVOKED, 'This session has ended');
}
