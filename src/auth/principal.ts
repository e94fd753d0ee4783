// From verified access-token claims to the viewer: the user and the session behind the token.
// The session's state and the user's roles are read from the database, never trusted from the
// token, and kept in an in-process cache so that the steady state costs no query per request.
// Whoever changes a session or a user calls invalidate*; across instances the change arrives
// through PostgreSQL NOTIFY (see invalidation.ts). A change made around Tessera (in SQL) sends no
// notice, so no entry is trusted for longer than the cache TTL: a background refresh re-reads the
// entries in use in one query, and an entry it has not reached in time is read as on a miss.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../config.js';
import { Session } from '../db/entities/index.js';
import { additionalClaimsOf, type AdditionalClaims } from './additional-claims.js';
import { AuthError, AuthFailure } from './auth-error.js';
import { checkTokenSource, type TokenSource } from './token-transport.js';
import { type AccessClaims, type AuthLevel, authLevelOf, type TokenService } from './tokens.js';
import { toUserView, type UserView } from './user-view.js';

export interface Viewer {
  readonly user: UserView;
  readonly sessionId: string;
  /** Issued by signup, login or reauthentication rather than by a refresh. */
  readonly fresh: boolean;
  /** The application's claims in this token (additional-claims.ts), as they were when it was signed. */
  readonly claims: AdditionalClaims;
  /** How strongly the session's user signed in (aal, amr), as this token states it. */
  readonly level: AuthLevel;
}

interface SessionState {
  readonly userId: string;
  readonly expiresAt: number;
  readonly lastUsedAt: number;
  readonly revoked: boolean;
  /** Access tokens of a lower `gen` were issued before a credential change. */
  readonly generation: number;
}

interface Loaded {
  readonly session: SessionState;
  readonly user: UserView;
}

interface Entry<V> {
  value: V;
  /** When the read that produced `value` started. */
  loadedAt: number;
  /** Used by a request since the last refresh, so the next refresh re-reads it. */
  used: boolean;
}

const MAX_CACHED_SESSIONS = 100_000;
const MAX_CACHED_USERS = 100_000;
/** Ids per refresh query: far beyond the sessions in use at once, below PostgreSQL's 65535 parameters. */
const REFRESH_BATCH = 10_000;

export class PrincipalService {
  private readonly sessions = new Map<string, Entry<SessionState>>();
  private readonly users = new Map<string, Entry<UserView>>();
  /** Reads of a session under way: requests that miss together share one (no stampede on a cold cache). */
  private readonly lookups = new Map<string, Promise<Loaded | undefined>>();
  /** Bumped by every invalidation: a lookup that raced one must not cache what it read. */
  private generation = 0;
  private listening = true;
  private readonly ttlMs: number;

  constructor(
    private readonly tokens: TokenService,
    private readonly sessionSettings: Config['sessions'],
    cacheTtlSeconds: number,
  ) {
    this.ttlMs = cacheTtlSeconds * 1000;
  }

  /** How often the background refresh should run; undefined when there is no cache. */
  get refreshIntervalMs(): number | undefined {
    return this.ttlMs > 0 ? Math.max(1, Math.floor(this.ttlMs / 2)) : undefined;
  }

  private get cacheEnabled(): boolean {
    return this.ttlMs > 0 && this.listening;
  }

  /**
   * The viewer behind an access token, or an AuthError. Synchronous when the principal is cached
   * (the steady state); otherwise a promise of the lookup, which reads in a unit of work forked
   * from `root`. `source` says where the token came from: a cookie-borne one must bring its CSRF value.
   */
  authenticate(root: EntityManager, token: string, source?: TokenSource): Viewer | Promise<Viewer> {
    const claims = this.tokens.verifyAccessToken(token);
    if (source) checkTokenSource(claims.csrf, source, 'access');
    if (this.cacheEnabled) {
      const now = Date.now();
      const session = this.current(this.sessions.get(claims.sid), now);
      const user = session && this.current(this.users.get(session.value.userId), now);
      if (session && user) {
        session.used = user.used = true;
        return this.admit(claims, session.value, user.value);
      }
    }
    return this.lookup(root, claims.sid).then((loaded) => this.admit(claims, loaded?.session, loaded?.user));
  }

  /** How many sessions and users the cache holds now (a gauge). */
  cacheSize(): { sessions: number; users: number } {
    return { sessions: this.sessions.size, users: this.users.size };
  }

  invalidateSession(sessionId: string): void {
    this.generation++;
    this.lookups.clear();
    this.sessions.delete(sessionId);
  }

  invalidateUser(userId: string): void {
    this.generation++;
    this.lookups.clear();
    this.users.delete(userId);
  }

  /** Forget everything, e.g. when invalidations may have been missed. */
  invalidateAll(): void {
    this.generation++;
    this.lookups.clear();
    this.sessions.clear();
    this.users.clear();
  }

  /** While invalidations cannot be received, every request reads the database. */
  setCacheEnabled(enabled: boolean): void {
    this.listening = enabled;
    this.invalidateAll();
  }

  /**
   * Re-reads, in one query, the sessions (and their users) used since the last refresh, and drops
   * the entries nobody used that are past the TTL. An entry invalidated or reloaded while the query
   * ran is left as it is: what replaced it is at least as new.
   */
  async refresh(root: EntityManager): Promise<void> {
    const startedAt = Date.now();
    for (const map of [this.sessions, this.users] as Map<string, Entry<unknown>>[]) {
      for (const [key, entry] of map) if (!entry.used && startedAt - entry.loadedAt >= this.ttlMs) map.delete(key);
    }
    if (!this.cacheEnabled) return;
    const sessions = [...this.sessions].filter(([, entry]) => entry.used);
    if (sessions.length === 0) return;
    const users = new Map<string, Entry<UserView> | undefined>();
    for (const [, entry] of sessions) {
      entry.used = false;
      users.set(entry.value.userId, this.users.get(entry.value.userId));
    }
    for (const entry of users.values()) if (entry) entry.used = false;

    const rows: Session[] = [];
    for (let i = 0; i < sessions.length; i += REFRESH_BATCH) {
      const ids = sessions.slice(i, i + REFRESH_BATCH).map(([id]) => id);
      rows.push(...(await root.fork().find(Session, { id: { $in: ids } }, { populate: ['user'] })));
    }
    const found = new Map(rows.map((row) => [row.id, row]));
    const foundUsers = new Map(rows.map((row) => [row.user.id, row.user]));
    for (const [id, entry] of sessions) {
      if (this.sessions.get(id) !== entry) continue;
      const row = found.get(id);
      if (row) this.sessions.set(id, { value: sessionStateOf(row), loadedAt: startedAt, used: entry.used });
      else this.sessions.delete(id);
    }
    for (const [id, entry] of users) {
      if (!entry || this.users.get(id) !== entry) continue;
      const row = foundUsers.get(id);
      if (!row) {
        this.users.delete(id);
        continue;
      }
      const view = toUserView(row);
      // The same object when nothing changed: results attached to it (the viewer result cache) stay.
      entry.value = sameUser(entry.value, view) ? entry.value : view;
      entry.loadedAt = startedAt;
    }
  }

  private current<V>(entry: Entry<V> | undefined, now: number): Entry<V> | undefined {
    return entry && now - entry.loadedAt < this.ttlMs ? entry : undefined;
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
    return {
      user,
      sessionId: claims.sid,
      fresh: claims.fresh,
      claims: additionalClaimsOf(claims),
      level: authLevelOf(claims),
    };
  }

  /**
   * One read per session at a time while the cache is on. A request that arrives after an
   * invalidation never joins a read begun before it: every invalidation forgets the reads under way.
   */
  private lookup(root: EntityManager, sessionId: string): Promise<Loaded | undefined> {
    if (!this.cacheEnabled) return this.load(root, sessionId);
    const pending = this.lookups.get(sessionId);
    if (pending) return pending;
    const lookup = this.load(root, sessionId).finally(() => {
      if (this.lookups.get(sessionId) === lookup) this.lookups.delete(sessionId);
    });
    this.lookups.set(sessionId, lookup);
    return lookup;
  }

  private async load(em: EntityManager, sessionId: string): Promise<Loaded | undefined> {
    const generation = this.generation;
    const loadedAt = Date.now();
    const row = await em.fork().findOne(Session, { id: sessionId }, { populate: ['user'] });
    if (!row) return undefined;
    const session = sessionStateOf(row);
    let user = toUserView(row.user);
    if (this.cacheEnabled && generation === this.generation) {
      const cached = this.users.get(user.id);
      if (cached && sameUser(cached.value, user)) user = cached.value;
      remember(this.sessions, sessionId, { value: session, loadedAt, used: true }, MAX_CACHED_SESSIONS);
      remember(this.users, user.id, { value: user, loadedAt, used: true }, MAX_CACHED_USERS);
    }
    return { session, user };
  }
}

function sessionStateOf(row: Session): SessionState {
  return {
    userId: row.user.id,
    expiresAt: row.expiresAt.getTime(),
    lastUsedAt: row.lastUsedAt.getTime(),
    revoked: row.revokedAt !== null,
    generation: row.generation,
  };
}

function sameUser(a: UserView, b: UserView): boolean {
  return (
    a.id === b.id &&
    a.username === b.username &&
    a.email === b.email &&
    a.emailVerified === b.emailVerified &&
    a.twoFactorEnabled === b.twoFactorEnabled &&
    a.isActive === b.isActive &&
    a.createdAt.getTime() === b.createdAt.getTime() &&
    a.roles.length === b.roles.length &&
    a.roles.every((role, i) => role === b.roles[i])
  );
}

/** A bounded map: past its size the oldest entry goes (Map iterates in insertion order). */
function remember<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value as string);
}
