// Tessera's Prometheus metrics, on a registry of its own (never prom-client's global one, so that
// two servers in one process, or an application's own metrics, never mix). Every label takes its
// values from a closed set: a result, a reason, a field of the schema, a revocation reason. Never a
// user id, name, token or address. Counting is a map lookup and an add; the gauges are read only
// when /metrics is scraped.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What a scrape reads from the live parts: each is called only then. */
export interface MetricSources {
  principalCache?: () => { sessions: number; users: number };
  invalidationListener?: () => { up: boolean; lastNoticeAt: number | undefined };
  /** One entry per pool (`orm`, `statements`). */
  databasePools?: () => Record<string, { total: number; idle: number; waiting: number }>;
}

/** What auth/ reports while it works, without knowing of Prometheus. */
export interface AuthObserver {
  /** One argon2 computation, hash or verify, in seconds. */
  passwordHashed(operation: 'hash' | 'verify', seconds: number): void;
  /** `count` sessions ended for `why` (a RevocationReason). */
  sessionsRevoked(why: string, count: number): void;
  /** A refresh answered with tokens: rotated, or re-issued inside the reuse interval (`grace`). */
  refreshIssued(grace: boolean): void;
}

export const NO_AUTH_OBSERVER: AuthObserver = {
  passwordHashed: () => undefined,
  sessionsRevoked: () => undefined,
  refreshIssued: () => undefined,
};

export class TesseraMetrics implements AuthObserver {
  readonly registry = new Registry();
  readonly logins: Counter<'result'>;
  readonly signups: Counter<'result'>;
  readonly refreshes: Counter<'result'>;
  readonly tokenRejections: Counter<'reason'>;
  readonly rateLimited: Counter<'field'>;
  readonly revokedSessions: Counter<'why'>;
  readonly graphqlDuration: Histogram<'operation_type'>;
  readonly passwordHashDuration: Histogram<'operation'>;
  private sources: MetricSources = {};

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.logins = new Counter({
      name: 'tessera_logins_total',
      help: 'login mutations by result: success, mfa_required, or the refusal reason in lower case',
      labelNames: ['result'],
      registers,
    });
    this.signups = new Counter({
      name: 'tessera_signups_total',
      help: 'signup mutations by result: success or the refusal reason in lower case',
      labelNames: ['result'],
      registers,
    });
    this.refreshes = new Counter({
      name: 'tessera_refreshes_total',
      help: 'refresh mutations by result: rotated, grace (re-issued inside the reuse interval), reused, expired, or the refusal reason',
      labelNames: ['result'],
      registers,
    });
    this.tokenRejections = new Counter({
      name: 'tessera_token_rejections_total',
      help: 'requests refused as UNAUTHENTICATED, by extensions.reason (one per reason per response)',
      labelNames: ['reason'],
      registers,
    });
    this.rateLimited = new Counter({
      name: 'tessera_rate_limited_total',
      help: 'root fields refused with RATE_LIMITED, by field name',
      labelNames: ['field'],
      registers,
    });
    this.revokedSessions = new Counter({
      name: 'tessera_sessions_revoked_total',
      help: 'sessions ended, by why (the revocation reason in lower case)',
      labelNames: ['why'],
      registers,
    });
    this.graphqlDuration = new Histogram({
      name: 'tessera_graphql_request_duration_seconds',
      help: 'GraphQL requests from receipt to response, by operation type (query, mutation, invalid)',
      labelNames: ['operation_type'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.passwordHashDuration = new Histogram({
      name: 'tessera_password_hash_duration_seconds',
      help: 'argon2id computations (hash or verify) in seconds',
      labelNames: ['operation'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.registerGauges(registers);
  }

  /** Connects the gauges to the live parts, once the server has built them. */
  watch(sources: MetricSources): void {
    this.sources = { ...this.sources, ...sources };
  }

  passwordHashed(operation: 'hash' | 'verify', seconds: number): void {
    this.passwordHashDuration.observe({ operation }, seconds);
  }

  sessionsRevoked(why: string, count: number): void {
    this.revokedSessions.inc({ why: why.toLowerCase() }, count);
  }

  refreshIssued(grace: boolean): void {
    this.refreshes.inc({ result: grace ? 'grace' : 'rotated' });
  }

  /** The text a Prometheus scrape reads. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private registerGauges(registers: Registry[]): void {
    const sources = (): MetricSources => this.sources;
    new Gauge({
      name: 'tessera_principal_cache_entries',
      help: 'verified sessions and users held by the principal cache, by kind',
      labelNames: ['kind'],
      registers,
      collect() {
        const cache = sources().principalCache?.();
        if (!cache) return;
        this.set({ kind: 'session' }, cache.sessions);
        this.set({ kind: 'user' }, cache.users);
      },
    });
    new Gauge({
      name: 'tessera_invalidation_listener_up',
      help: '1 while the LISTEN connection delivers notices (the principal cache is on), 0 otherwise',
      registers,
      collect() {
        const listener = sources().invalidationListener?.();
        if (listener) this.set(listener.up ? 1 : 0);
      },
    });
    new Gauge({
      name: 'tessera_invalidation_last_notice_age_seconds',
      help: 'seconds since the LISTEN connection last received a notice (heartbeats included)',
      registers,
      collect() {
        const at = sources().invalidationListener?.().lastNoticeAt;
        if (at !== undefined) this.set((Date.now() - at) / 1000);
      },
    });
    const pools = (read: (pool: { total: number; idle: number; waiting: number }) => number) =>
      function (this: Gauge<'pool'>) {
        for (const [pool, state] of Object.entries(sources().databasePools?.() ?? {})) this.set({ pool }, read(state));
      };
    new Gauge({
      name: 'tessera_db_pool_connections',
      help: 'open database connections, by pool',
      labelNames: ['pool'],
      registers,
      collect: pools((pool) => pool.total),
    });
    new Gauge({
      name: 'tessera_db_pool_idle_connections',
      help: 'idle database connections, by pool',
      labelNames: ['pool'],
      registers,
      collect: pools((pool) => pool.idle),
    });
    new Gauge({
      name: 'tessera_db_pool_waiting_requests',
      help: 'queries waiting for a database connection, by pool',
      labelNames: ['pool'],
      registers,
      collect: pools((pool) => pool.waiting),
    });
  }
}
