// Cross-instance cache invalidation over PostgreSQL LISTEN/NOTIFY: no infrastructure beyond the
// database every instance already shares. A change is announced inside the transaction that
// makes it, so PostgreSQL delivers the notice exactly when (and only if) the change commits.
import { randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import pg from 'pg';
import type { Logger } from '../logger.js';
import type { PrincipalService } from './principal.js';

const CHANNEL = 'tessera_principal_invalidation';
const HEARTBEAT_CHANNEL = 'tessera_listener_heartbeat';
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5000;
// Notices can be lost without any error: a connection dropped without a word (a NAT or load
// balancer forgetting an idle flow), or a LISTEN that sits on another server or database than the
// writes (a transaction pooler, a misdirected URL). So the heartbeat is a notice of its own, sent
// the way changes are (through the ORM), that must come back on the listening connection within the
// deadline; if it does not, the cache is cleared and off until one does. The deadline is generous:
// a PostgreSQL slowed by load is not a lost connection, and reading every request from it then
// would only slow it more.
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
 * A select (for a WITH list, which the statement must read for it to run) announcing a change to
 * each session that `sessions` (a CTE returning `id`) yields, for a statement that is its own
 * transaction: the notices go out when, and only if, it commits.
 */
export function announceSessionsSql(sessions: string): string {
  return `select pg_notify('${CHANNEL}', 's:' || id) from ${sessions}`;
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
 * Listens for notices and applies them to this instance's principal cache. Until a heartbeat has
 * come back, and whenever one does not, a notice could be missed, so the cache is switched off
 * (every request reads the database).
 */
export class InvalidationListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private reconnectDelay = RECONNECT_MIN_MS;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private heartbeatDeadline: NodeJS.Timeout | undefined;
  private expectedBeat: string | undefined;
  private delivering = false;
  private firstBeat: (() => void) | undefined;
  private lastNoticeAt: number | undefined;

  constructor(
    private readonly listenUrl: string,
    /** Where the heartbeat is sent from: the connections that send the real notices. */
    private readonly em: EntityManager,
    private readonly principals: PrincipalService,
    private readonly logger: Logger,
  ) {}

  /** Whether notices are delivered (the cache is on), and when the last one came (epoch ms). */
  state(): { up: boolean; lastNoticeAt: number | undefined } {
    return { up: this.delivering, lastNoticeAt: this.lastNoticeAt };
  }

  /** Resolves once the first heartbeat came back or missed its deadline. */
  async start(): Promise<void> {
    this.principals.setCacheEnabled(false);
    const first = new Promise<void>((resolve) => (this.firstBeat = resolve));
    await this.connect();
    await first;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.settleFirstBeat();
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.heartbeatTimer);
    clearTimeout(this.heartbeatDeadline);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.listenUrl,
      keepAlive: true,
      query_timeout: HEARTBEAT_TIMEOUT_MS,
      // A reconnect into a flow that answers nothing fails and is tried again, rather than hang.
      connectionTimeoutMillis: HEARTBEAT_TIMEOUT_MS,
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    client.on('notification', (message) => {
      this.lastNoticeAt = Date.now();
      if (message.channel === HEARTBEAT_CHANNEL) this.beat(client, message.payload);
      else this.apply(message.payload);
    });
    try {
      await client.connect();
      await client.query(`listen ${CHANNEL}; listen ${HEARTBEAT_CHANNEL}`);
    } catch (error) {
      this.lost(client, error);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.heartbeat(client);
  }

  private heartbeat(client: pg.Client): void {
    const nonce = `h:${randomBytes(12).toString('base64url')}`;
    this.expectedBeat = nonce;
    this.heartbeatDeadline = setTimeout(
      () => this.lost(client, new Error('the heartbeat notice did not come back on the listening connection')),
      HEARTBEAT_TIMEOUT_MS,
    );
    this.heartbeatDeadline.unref();
    this.em
      .fork()
      .execute('select pg_notify(?, ?)', [HEARTBEAT_CHANNEL, nonce])
      .catch((error: unknown) => this.lost(client, error));
  }

  /** Other instances' heartbeats arrive too; only this one's own nonce counts. */
  private beat(client: pg.Client, payload: string | undefined): void {
    if (this.client !== client || payload === undefined || payload !== this.expectedBeat) return;
    this.expectedBeat = undefined;
    clearTimeout(this.heartbeatDeadline);
    if (!this.delivering) {
      this.delivering = true;
      this.reconnectDelay = RECONNECT_MIN_MS;
      this.principals.setCacheEnabled(true);
    }
    this.settleFirstBeat();
    this.heartbeatTimer = setTimeout(() => {
      if (this.client === client) this.heartbeat(client);
    }, HEARTBEAT_INTERVAL_MS);
    this.heartbeatTimer.unref();
  }

  private settleFirstBeat(): void {
    this.firstBeat?.();
    this.firstBeat = undefined;
  }

  private apply(payload: string | undefined): void {
    if (payload?.startsWith('s:')) this.principals.invalidateSession(payload.slice(2));
    else if (payload?.startsWith('u:')) this.principals.invalidateUser(payload.slice(2));
  }

  private lost(client: pg.Client, error?: unknown): void {
    if (this.stopped || (this.client !== undefined && this.client !== client)) return;
    if (this.client === client) this.client = undefined;
    clearTimeout(this.heartbeatTimer);
    clearTimeout(this.heartbeatDeadline);
    this.expectedBeat = undefined;
    this.delivering = false;
    this.settleFirstBeat();
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
