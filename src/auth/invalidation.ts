// Cross-instance cache invalidation over PostgreSQL LISTEN/NOTIFY: no infrastructure beyond the
// database every instance already shares. A change is announced inside the transaction that
// makes it, so PostgreSQL delivers the notice exactly when (and only if) the change commits.
import type { EntityManager } from '@mikro-orm/postgresql';
import pg from 'pg';
import type { Logger } from '../logger.js';
import type { PrincipalService } from './principal.js';

const CHANNEL = 'tessera_principal_invalidation';
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5000;
// A connection dropped without a word (a NAT or load balancer forgetting an idle flow) raises no
// error: the listener would wait for notices that never come while the cache serves what they
// should have removed. A query every few seconds, with a deadline (the client's, for all its
// queries), notices it; the cache is then cleared, so no instance trusts it for longer than these
// two added up. The deadline is generous: a PostgreSQL slowed by load is not a lost connection,
// and reading every request from it then would only slow it more.
const HEARTBEAT_INTERVAL_MS = 2000;
const HEARTBEAT_TIMEOUT_MS = 5000;

export type Invalidation = { session: string } | { user: string };

/**
 * Queues the notice on `tx`, which must be the transaction making the change. The local cache
 * hears it through its own LISTEN connection too, but callers also invalidate locally after the
 * commit so that the very next request on this instance never waits for the round trip.
 */
export async function announceInvalidation(tx: EntityManager, invalidations: Invalidation[]): Promise<void> {
  for (const invalidation of invalidations) {
    const payload = 'session' in invalidation ? `s:${invalidation.session}` : `u:${invalidation.user}`;
    await tx.execute('select pg_notify(?, ?)', [CHANNEL, payload]);
  }
}

/**
 * Runs `work` in a transaction, announces the invalidations it returns inside it, and applies them
 * to this instance's cache once committed.
 */
export async function withInvalidations<T>(
  em: EntityManager,
  principals: PrincipalService,
  work: (tx: EntityManager) => Promise<{ result: T; invalidations: Invalidation[] }>,
): Promise<T> {
  const { result, invalidations } = await em.transactional(async (tx) => {
    const outcome = await work(tx);
    await announceInvalidation(tx, outcome.invalidations);
    return outcome;
  });
  applyInvalidation(principals, invalidations);
  return result;
}

export function applyInvalidation(principals: PrincipalService, invalidations: Invalidation[]): void {
  for (const invalidation of invalidations) {
    if ('session' in invalidation) principals.invalidateSession(invalidation.session);
    else principals.invalidateUser(invalidation.user);
  }
}

/**
 * Listens for notices and applies them to this instance's principal cache. While the listening
 * connection is down a notice could be missed, so the cache is switched off (every request
 * reads the database) until it is back.
 */
export class InvalidationListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private reconnectDelay = RECONNECT_MIN_MS;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly databaseUrl: string,
    private readonly principals: PrincipalService,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.principals.setCacheEnabled(false);
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.heartbeatTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.databaseUrl,
      keepAlive: true,
      query_timeout: HEARTBEAT_TIMEOUT_MS,
      // A reconnect into a flow that answers nothing fails and is tried again, rather than hang.
      connectionTimeoutMillis: HEARTBEAT_TIMEOUT_MS,
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    client.on('notification', (message) => this.apply(message.payload));
    try {
      await client.connect();
      await client.query(`listen ${CHANNEL}`);
    } catch (error) {
      this.lost(client, error);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.reconnectDelay = RECONNECT_MIN_MS;
    this.principals.setCacheEnabled(true);
    this.scheduleHeartbeat(client);
  }

  private scheduleHeartbeat(client: pg.Client): void {
    this.heartbeatTimer = setTimeout(() => {
      client.query('select 1').then(
        () => {
          if (this.client === client) this.scheduleHeartbeat(client);
        },
        (error: unknown) => this.lost(client, error),
      );
    }, HEARTBEAT_INTERVAL_MS);
    this.heartbeatTimer.unref();
  }

  private apply(payload: string | undefined): void {
    if (payload?.startsWith('s:')) this.principals.invalidateSession(payload.slice(2));
    else if (payload?.startsWith('u:')) this.principals.invalidateUser(payload.slice(2));
  }

  private lost(client: pg.Client, error?: unknown): void {
    if (this.stopped || (this.client !== undefined && this.client !== client)) return;
    if (this.client === client) this.client = undefined;
    clearTimeout(this.heartbeatTimer);
    this.principals.setCacheEnabled(false);
    client.removeAllListeners();
    client.on('error', () => undefined);
    client.end().catch(() => undefined);
    if (this.reconnectTimer) return;
    this.logger.warn(
      { err: error },
      'lost the invalidation listener; reading sessions from the database until it is back',
    );
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, this.reconnectDelay);
    this.reconnectTimer.unref();
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
  }
}
