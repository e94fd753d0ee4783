// The outbox's sender. Each poll claims a batch of due mails in one statement (SKIP LOCKED, so that
// several instances on one database never claim the same row), moving them forward by a lease, and
// sends them outside any transaction: a slow or absent SMTP server delays mail and holds no lock,
// and the mutations that queued them only ever inserted a row. A failure is retried with doubling
// delays; after MAIL_MAX_ATTEMPTS the mail is given up. Sent and given-up mails lose their params
// (the link) at once and are deleted after MAIL_RETENTION.
import type { Config, MailConfig } from '../config.js';
import type { Orm } from '../db/orm.js';
import { MailStatus } from '../db/entities/index.js';
import type { Logger } from '../logger.js';
import { renderStoredMail } from './templates.js';
import { createMailTransport, type MailTransport } from './transport.js';

/** Mails claimed per poll; a full batch polls again at once. */
const CLAIM_BATCH = 20;
/** Rows deleted per purge statement, so that a long backlog never holds a long lock. */
const PURGE_BATCH = 1000;
/** What of a transport's refusal is kept in last_error. */
const ERROR_MAX_LENGTH = 500;

interface ClaimedMail {
  id: string;
  kind: string;
  recipient: string;
  params: Record<string, unknown> | null;
  attempts: number;
}

export interface MailWorker {
  start(): void;
  /** Stops polling and waits for the sends in flight and their bookkeeping. */
  stop(): Promise<void>;
  /** One poll: claims and sends what is due. Resolves with how many mails it claimed. */
  deliverDue(): Promise<number>;
  /** Deletes the mails queued longer ago than MAIL_RETENTION, sent or not. Resolves with how many. */
  purge(): Promise<number>;
}

export function createMailWorker(
  config: Config,
  orm: Orm,
  logger: Logger,
  transport: MailTransport = createMailTransport(config.mail, logger),
): MailWorker {
  const settings = config.mail;
  const connection = () => orm.em.getConnection();
  let pollTimer: NodeJS.Timeout | undefined;
  let purgeTimer: NodeJS.Timeout | undefined;
  let polling: Promise<unknown> | undefined;
  let purging: Promise<unknown> | undefined;
  /** Sends still running past their deadline: their outcome is still recorded. */
  const overdue = new Set<Promise<unknown>>();
  let stopped = true;

  const claim = (): Promise<ClaimedMail[]> =>
    connection().execute<ClaimedMail[]>(
      `update mail_outbox set attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => ?)
        where id in (
          select id from mail_outbox
           where status = ? and next_attempt_at <= now()
           order by next_attempt_at limit ?
           for update skip locked)
        returning id, kind, recipient, params, attempts`,
      [leaseSeconds(settings), MailStatus.PENDING, CLAIM_BATCH],
      'all',
    );

  // `attempts = ?` in both updates: a worker whose lease ran out never overwrites a newer claim.
  const markSent = (mail: ClaimedMail) =>
    connection().execute(
      `update mail_outbox set status = ?, sent_at = now(), params = null, last_error = null
        where id = ? and attempts = ? and status = ?`,
      [MailStatus.SENT, mail.id, mail.attempts, MailStatus.PENDING],
    );

  /** `notBeforeSeconds`: a send past its deadline may still go through; no retry starts before it is settled. */
  const markFailed = async (mail: ClaimedMail, error: string, notBeforeSeconds = 0): Promise<boolean> => {
    const givenUp = mail.attempts >= settings.maxAttempts;
    const backoff = Math.min(settings.retryBaseSeconds * 2 ** (mail.attempts - 1), settings.retryMaxSeconds);
    const delay = Math.max(backoff, notBeforeSeconds);
    await connection().execute(
      `update mail_outbox set status = ?, params = case when ? then null else params end,
              next_attempt_at = now() + make_interval(secs => ?), last_error = ?
        where id = ? and attempts = ? and status = ?`,
      [
        givenUp ? MailStatus.FAILED : MailStatus.PENDING,
        givenUp,
        delay,
        error,
        mail.id,
        mail.attempts,
        MailStatus.PENDING,
      ],
    );
    return givenUp;
  };

  const deliver = async (mail: ClaimedMail): Promise<void> => {
    let sending: Promise<unknown> | undefined;
    try {
      const rendered = renderStoredMail(mail.kind, mail.params);
      sending = transport.send({ to: mail.recipient, ...rendered });
      await withDeadline(sending, settings.sendTimeoutSeconds);
    } catch (error) {
      const reason = describeFailure(error, settings, mail.params);
      const late = error instanceof DeadlinePassed && sending !== undefined;
      // The server may still accept it: the retry waits out the lease, and if the send does go
      // through meanwhile, it counts as sent (the claim is still this one's), so it goes once.
      if (late) watchOverdue(sending!.then(() => markSent(mail)));
      if (await markFailed(mail, reason, late ? leaseSeconds(settings) : 0)) {
        logger.warn({ mailId: mail.id, kind: mail.kind, attempts: mail.attempts, error: reason }, 'mail given up');
      } else {
        logger.info(
          { mailId: mail.id, kind: mail.kind, attempts: mail.attempts, error: reason },
          'mail not sent; will retry',
        );
      }
      return;
    }
    await markSent(mail);
  };

  const watchOverdue = (outcome: Promise<unknown>): void => {
    const settled = outcome.catch(() => undefined).finally(() => overdue.delete(settled));
    overdue.add(settled);
  };

  const deliverDue = async (): Promise<number> => {
    const claimed = await claim();
    await Promise.all(claimed.map(deliver));
    return claimed.length;
  };

  const poll = (): void => {
    polling = deliverDue()
      .then(
        (claimed) => claimed,
        (error: unknown) => {
          logger.warn({ err: error }, 'mail outbox poll failed; will retry');
          return 0;
        },
      )
      .then((claimed) => {
        polling = undefined;
        if (stopped) return;
        pollTimer = setTimeout(poll, claimed >= CLAIM_BATCH ? 0 : settings.pollIntervalSeconds * 1000);
      });
  };

  // Sent and given-up mails, and those still waiting after as long (never to be sent: MAIL_FLOWS
  // was turned off, or the server was gone for days), whose links must not stay behind. Two
  // conditions so that each is read through its own partial index.
  const purge = async (): Promise<number> => {
    let total = 0;
    for (const status of ['<>', '=']) {
      for (;;) {
        const deleted = await connection().execute(
          `delete from mail_outbox where id in (
             select id from mail_outbox
              where status ${status} ? and created_at < now() - make_interval(secs => ?)
              limit ?)`,
          [MailStatus.PENDING, settings.retentionSeconds, PURGE_BATCH],
          'run',
        );
        const count = (deleted as { affectedRows?: number }).affectedRows ?? 0;
        total += count;
        if (count < PURGE_BATCH) break;
      }
    }
    return total;
  };

  const purgeOnTimer = (): void => {
    if (purging) return;
    purging = purge()
      .then(
        (deleted) => deleted > 0 && logger.info({ mails: deleted }, 'purged sent and given-up mails'),
        (error: unknown) => logger.warn({ err: error }, 'mail purge failed; will retry'),
      )
      .finally(() => (purging = undefined));
  };

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      // MAIL_FLOWS=off queues nothing: only the purge has work (mails left from before).
      if (settings.enabled) poll();
      purgeTimer = setInterval(purgeOnTimer, config.sessions.purgeIntervalSeconds * 1000);
      purgeTimer.unref();
    },
    async stop() {
      stopped = true;
      clearTimeout(pollTimer);
      clearInterval(purgeTimer);
      await Promise.all([polling, purging, ...overdue]);
      transport.close();
    },
    deliverDue,
    purge,
  };
}

/**
 * How long a claimed mail is left to its worker. Twice the send's own deadline: a send that ends
 * just after its deadline is not taken by another instance meanwhile; a crashed worker's mails
 * come back after it.
 */
function leaseSeconds(settings: MailConfig): number {
  return settings.sendTimeoutSeconds * 2;
}

class DeadlinePassed extends Error {}

function withDeadline<T>(work: Promise<T>, seconds: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlinePassed(`no answer within ${seconds}s`)), seconds * 1000);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** The refusal, short, without the SMTP password or the mail's link (nodemailer never puts the body in it). */
function describeFailure(error: unknown, settings: MailConfig, params: Record<string, unknown> | null): string {
  const code = (error as { code?: unknown }).code;
  let text = `${typeof code === 'string' ? `${code}: ` : ''}${error instanceof Error ? error.message : String(error)}`;
  const secrets = [smtpPassword(settings.smtpUrl), typeof params?.link === 'string' ? params.link : undefined];
  for (const secret of secrets) if (secret) text = text.split(secret).join('[redacted]');
  return text.slice(0, ERROR_MAX_LENGTH);
}

function smtpPassword(smtpUrl: string | undefined): string | undefined {
  if (!smtpUrl) return undefined;
  const url = new URL(smtpUrl);
  return url.password ? decodeURIComponent(url.password) : undefined;
}
