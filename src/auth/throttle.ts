// Brute-force defences, counted per attempt (so an aliased or repeated field counts like a
// separate request) and stored in PostgreSQL so that every instance shares the counts:
// - per client IP, for credential attempts and for refreshes;
// - per account, a temporary lock after repeated password checks that did not end in success
//   (each check is counted before it runs, a success clears the count). It expires by itself:
//   a stranger can delay an account's logins for a while, never lock it out for good (OWASP).
import pg from 'pg';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../config.js';

/** Matches the rate_limits table of the migrations (rate-limiter-flexible's layout). */
export const RATE_LIMIT_TABLE = 'rate_limits';

export enum ThrottledAction {
  CREDENTIALS = 'credentials',
  REFRESH = 'refresh',
}

export class ThrottledError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many attempts: try again in ${retryAfterSeconds} s`);
    this.name = 'ThrottledError';
  }
}

export class Throttle {
  private readonly pool: pg.Pool;
  private readonly perIp: Record<ThrottledAction, RateLimiterPostgres>;
  private readonly accountAttempts: RateLimiterPostgres;

  constructor(databaseUrl: string, private readonly settings: Config['throttle']) {
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 4, idleTimeoutMillis: 10_000, connectionTimeoutMillis: 5_000 });
    // An idle client's error (the database restarting) must not crash the process.
    this.pool.on('error', () => undefined);
    const store = { storeClient: this.pool, tableName: RATE_LIMIT_TABLE, tableCreated: true, clearExpiredByTimeout: false };
    this.perIp = {
      [ThrottledAction.CREDENTIALS]: new RateLimiterPostgres({ ...store, keyPrefix: 'ip-credentials', points: settings.ipAttempts, duration: settings.ipWindowSeconds }),
      [ThrottledAction.REFRESH]: new RateLimiterPostgres({ ...store, keyPrefix: 'ip-refresh', points: settings.ipRefreshes, duration: settings.ipWindowSeconds }),
    };
    // The stored key prefix keeps its first name: renaming it would forget running locks.
    this.accountAttempts = new RateLimiterPostgres({
      ...store,
      keyPrefix: 'account-failures',
      points: settings.accountFailures,
      duration: settings.accountWindowSeconds,
    });
  }

  /** Counts one attempt from `ip`; throws ThrottledError past the limit. */
  async consumeIp(action: ThrottledAction, ip: string | null): Promise<void> {
    try {
      await this.perIp[action].consume(ip ?? 'unknown');
    } catch (rejection) {
      throw toThrottled(rejection);
    }
  }

  /**
   * Counts an attempt on the account before its password is checked (a success clears the count
   * again), so that guesses sent all at once cannot each pass a read-only check before any of
   * their failures is recorded. The attempt past the limit starts the lock; while it runs every
   * attempt is refused, the right password included.
   */
  async beginAccountAttempt(accountKey: string): Promise<void> {
    try {
      await this.accountAttempts.consume(accountKey);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      if (rejection.consumedPoints === this.settings.accountFailures + 1) {
        await this.accountAttempts.block(accountKey, this.settings.accountLockSeconds);
        throw new ThrottledError(this.settings.accountLockSeconds);
      }
      throw toThrottled(rejection);
    }
  }

  /** After a successful password check: the account's count starts over. */
  async clearAccountAttempts(accountKey: string): Promise<void> {
    await this.accountAttempts.delete(accountKey);
  }

  async purgeExpired(): Promise<number> {
    const result = await this.pool.query(`delete from ${RATE_LIMIT_TABLE} where expire < $1`, [Date.now()]);
    return result.rowCount ?? 0;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function toThrottled(rejection: unknown): unknown {
  if (rejection instanceof RateLimiterRes) return new ThrottledError(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
  return rejection;
}
