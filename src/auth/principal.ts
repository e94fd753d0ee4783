// From verified access-token claims to the viewer: the user and the session behind the token.
// The session's state and the user's roles are read from the database, never trusted from the
// token, and kept in an in-process cache so that the steady state costs no query per request.
// Whoever changes a session or a user calls invalidate*; across instances the change arrives
// through PostgreSQL NOTIFY (see invalidation.ts).
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../config.js';
import { Session } from '../db/entities/index.js';
import { additionalClaimsOf, type AdditionalClaims } from './additional-claims.js';
import { AuthError, AuthFailure } from './auth-error.js';
import type { AccessClaims, TokenService } from './tokens.js';
import { toUserView, type UserView } from './user-view.js';

export interface Viewer {
  readonly user: UserView;
  readonly sessionId: string;
  /** Issued by signup, login or reauthentication rather than by a refresh. */
  readonly fresh: boolean;
  /** The application's claims in this token (additional-claims.ts), as they were when it was signed. */
  readonly claims: AdditionalClaims;
}

interface SessionState {
  readonly userId: string;
  readonly expiresAt: number;
  readonly lastUsedAt: number;
  readonly revoked: boolean;
  /** Access tokens of a lower `gen` were issued before a credential change. */
  readonly generation: number;
}

const MAX_CACHED_SESSIONS = 100_000;
const MAX_CACHED_USERS = 100_000;

export class PrincipalService {
  private readonly sessions = new Map<string, SessionState>();
  private readonly users = new Map<string, UserView>();
  /** Bumped by every invalidation: a lookup that raced one must not cache what it read. */
  private generation = 0;
  private cacheEnabled = true;

  constructor(
    private readonly tokens: TokenService,
    private readonly sessionSettings: Config['sessions'],
  ) {}

  /**
   * The viewer behind an access token, or an AuthError. Synchronous when the principal is cached
   * (the steady state); otherwise a promise of the lookup, which reads in a unit of work forked
   * from `root`.
   */
  authenticate(root: EntityManager, token: string): Viewer | Promise<Viewer> {
    const claims = this.tokens.verifyAccessToken(token);
    const session = this.cacheEnabled ? this.sessions.get(claims.sid) : undefined;
    const user = session && this.users.get(session.userId);
    if (session && user) return this.admit(claims, session, user);
    return this.load(root, claims.sid).then((loaded) => this.admit(claims, loaded?.session, loaded?.user));
  }

  invalidateSession(sessionId: string): void {
    this.generation++;
    this.sessions.delete(sessionId);
  }

  invalidateUser(userId: string): void {
    this.generation++;
    this.users.delete(userId);
  }

  /** Forget everything, e.g. when invalidations may have been missed. */
  invalidateAll(): void {
    this.generation++;
    this.sessions.clear();
    this.users.clear();
  }

  /** While invalidations cannot be received, every request reads the database. */
  setCacheEnabled(enabled: boolean): void {
    this.cacheEnabled = enabled;
    this.invalidateAll();
  }

  private admit(claims: Readonly<AccessClaims>, session: SessionState | undefined, user: UserView | undefined): Viewer {
    const now = Date.now();
    const inactivityMs = this.sessionSettings.inactivityTimeoutSeconds * 1000;
    if (
      !session ||
      !user ||
      session.userId !== claims.sub ||
      session.revoked ||
      (claims.gen ?? 0) < session.generation ||
      session.expiresAt <= now ||
      (inactivityMs > 0 && session.lastUsedAt + inactivityMs <= now) ||
      !user.isActive
    ) {
      throw new AuthError(AuthFailure.TOKEN_REVOKED, 'Token has been revoked');
    }
    return { user, sessionId: claims.sid, fresh: claims.fresh, claims: additionalClaimsOf(claims) };
  }

  private async load(
    em: EntityManager,
    sessionId: string,
  ): Promise<{ session: SessionState; user: UserView } | undefined> {
    const generation = this.generation;
    const row = await em.fork().findOne(Session, { id: sessionId }, { populate: ['user'] });
    if (!row) return undefined;
    const session: SessionState = {
      userId: row.user.id,
      expiresAt: row.expiresAt.getTime(),
      lastUsedAt: row.lastUsedAt.getTime(),
      revoked: row.revokedAt !== null,
      generation: row.generation,
    };
    const user = toUserView(row.user);
    if (this.cacheEnabled && generation === this.generation) {
      remember(this.sessions, sessionId, session, MAX_CACHED_SESSIONS);
      remember(this.users, user.id, user, MAX_CACHED_USERS);
    }
    return { session, user };
  }
}

/** A bounded map: past its size the oldest entry goes (Map iterates in insertion order). */
function remember<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value as string);
}
