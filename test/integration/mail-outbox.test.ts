// The outbox against real parts: mails queued in a transaction with the test's ORM (as a mutation
// queues them), sent by the server's worker to an SMTP server in this process, the rows read back
// from PostgreSQL.
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MailStatus, OutboxMail } from '../../src/db/entities/index.js';
import { MailKind, type MailParams } from '../../src/mail/mail-kind.js';
import { Outbox } from '../../src/mail/outbox.js';
import { createLogger } from '../../src/logger.js';
import { createMailWorker } from '../../src/mail/worker.js';
import { captureLog } from '../helpers/captured-log.js';
import { eventually } from '../helpers/eventually.js';
import { startSmtpReceiver, type SmtpReceiver } from '../helpers/smtp-receiver.js';
import { createTestDatabase } from '../helpers/test-database.js';
import { startTestServer, type TestServer, type TestServerOptions } from '../helpers/test-server.js';

/** Retries a second apart: the down-then-up and give-up cases stay short. */
const FAST_RETRIES = { MAIL_RETRY_BASE: '1s', MAIL_RETRY_MAX: '1s' };

let smtp: SmtpReceiver;
const servers: TestServer[] = [];
let recipientCount = 0;

beforeAll(async () => {
  smtp = await startSmtpReceiver();
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
  await smtp.start();
});

afterAll(async () => {
  await smtp.stop();
});

/** An address no other test of this file writes to (the receiver is shared). */
function recipient(name: string): string {
  recipientCount += 1;
  return `${name}-${recipientCount}@example.com`;
}

async function serve(env: Record<string, string> = {}, options: TestServerOptions = {}): Promise<TestServer> {
  const server = await startTestServer({ SMTP_URL: smtp.url, ...env }, undefined, options);
  servers.push(server);
  return server;
}

/** Queues mails in one transaction, as a mutation does: they exist once it commits. */
async function queue<K extends MailKind>(
  server: TestServer,
  kind: K,
  mails: { to: string; params: MailParams[K] }[],
): Promise<void> {
  const outbox = new Outbox(server.config.mail);
  await server.orm.em.fork().transactional((tx) => {
    for (const mail of mails) outbox.queue(tx, { kind, to: mail.to, params: mail.params });
  });
}

function verification(server: TestServer, to: string, token = `token-for-${to}`) {
  return {
    to,
    params: { username: to.split('@')[0], link: new Outbox(server.config.mail).link('verifyEmail', token) },
  };
}

function rowsTo(server: TestServer, ...recipients: string[]): Promise<OutboxMail[]> {
  return server.orm.em.fork().find(OutboxMail, { recipient: { $in: recipients } }, { orderBy: { createdAt: 'asc' } });
}

async function rowTo(server: TestServer, to: string): Promise<OutboxMail> {
  const [row] = await rowsTo(server, to);
  if (!row) throw new Error(`no outbox row for ${to}`);
  return row;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const countTo = (to: string) => smtp.mails.filter((mail) => mail.to === to).length;

test('a queued mail arrives with a plain-text and an HTML part, its link in both', async () => {
  const server = await serve();
  const to = recipient('ada');
  const link = `${server.config.mail.appUrl}/verify-email?token=abc123`;
  await queue(server, MailKind.EMAIL_VERIFICATION, [{ to, params: { username: 'ada', link } }]);

  const mail = await smtp.waitForMail(to);
  expect(mail.subject).toBe('Confirm your email address');
  expect(mail.text).toContain('Hello ada,');
  expect(mail.link).toBe(link);
  expect(smtp.tokenOf(mail)).toBe('abc123');
  expect(mail.html).toContain(`<a href="${link}">`);
  expect(mail.headers.get('auto-submitted')).toBe('auto-generated');
  expect(mail.from).toBe('no-reply@localhost');
});

test('a sent mail keeps no params (its link): only its record until MAIL_RETENTION', async () => {
  const server = await serve();
  const to = recipient('bea');
  await queue(server, MailKind.PASSWORD_RESET, [verification(server, to)]);
  await smtp.waitForMail(to);

  expect(await eventually(async () => (await rowTo(server, to)).status === MailStatus.SENT, 5000)).toBe(true);
  const row = await rowTo(server, to);
  expect(row).toMatchObject({ kind: MailKind.PASSWORD_RESET, params: null, attempts: 1, lastError: null });
  expect(row.sentAt).toBeInstanceOf(Date);
});

test('SMTP down, then up: every mail is delivered, none twice', async () => {
  await smtp.stop();
  const server = await serve(FAST_RETRIES);
  const recipients = [recipient('down'), recipient('down'), recipient('down')];
  await queue(
    server,
    MailKind.EMAIL_VERIFICATION,
    recipients.map((to) => verification(server, to)),
  );

  // Refused at least twice (the retries happen), kept, still pending.
  const refusedTwice = async () =>
    (await rowsTo(server, ...recipients)).every((row) => row.attempts >= 2 && row.status === MailStatus.PENDING);
  expect(await eventually(refusedTwice, 10_000)).toBe(true);
  const refused = await rowsTo(server, ...recipients);
  expect(refused.map((row) => row.lastError)).toEqual(recipients.map(() => expect.stringMatching(/ECONNREFUSED/)));
  expect(refused.every((row) => row.params !== null)).toBe(true);

  await smtp.start();
  for (const to of recipients) await smtp.waitForMail(to, 10_000);
  await sleep(2500);
  expect(recipients.map(countTo)).toEqual([1, 1, 1]);
  expect((await rowsTo(server, ...recipients)).map((row) => row.status)).toEqual(recipients.map(() => MailStatus.SENT));
});

test('two servers sharing one outbox deliver each of 30 mails exactly once', async () => {
  const database = await createTestDatabase();
  try {
    const first = await startTestServer({ SMTP_URL: smtp.url }, database);
    servers.push(first);
    const second = await startTestServer({ SMTP_URL: smtp.url }, database);
    servers.push(second);
    const recipients = Array.from({ length: 30 }, () => recipient('shared'));
    await queue(
      first,
      MailKind.EMAIL_VERIFICATION,
      recipients.map((to) => verification(first, to)),
    );

    for (const to of recipients) await smtp.waitForMail(to, 15_000);
    // Two more polls of each server: a mail claimed twice would arrive meanwhile.
    await sleep(2500);
    expect(recipients.map(countTo)).toEqual(recipients.map(() => 1));
    const rows = await rowsTo(second, ...recipients);
    expect(rows).toHaveLength(30);
    expect(rows.every((row) => row.status === MailStatus.SENT && row.attempts === 1)).toBe(true);
  } finally {
    await Promise.all(servers.splice(0).map((server) => server.stop()));
    await database.drop();
  }
});

test('claims made at the same moment never hand one mail to two workers', async () => {
  const server = await serve();
  // Four more workers on the same database, each with its own SMTP connection, claiming at once.
  const workers = Array.from({ length: 4 }, () =>
    createMailWorker(server.config, server.orm, createLogger(server.config)),
  );
  const recipients = Array.from({ length: 60 }, () => recipient('race'));
  await queue(
    server,
    MailKind.EMAIL_VERIFICATION,
    recipients.map((to) => verification(server, to)),
  );
  try {
    let claimed = 0;
    while (claimed < recipients.length) {
      const round = await Promise.all(workers.map((worker) => worker.deliverDue()));
      claimed += round.reduce((sum, count) => sum + count, 0);
      if (round.every((count) => count === 0)) break;
    }
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()));
  }
  for (const to of recipients) await smtp.waitForMail(to, 10_000);
  await sleep(1500);
  expect(recipients.map(countTo)).toEqual(recipients.map(() => 1));
});

test('a rolled-back transaction sends nothing', async () => {
  const server = await serve();
  const to = recipient('rollback');
  const outbox = new Outbox(server.config.mail);
  await expect(
    server.orm.em.fork().transactional(async (tx) => {
      outbox.queue(tx, { kind: MailKind.PASSWORD_CHANGED, to, params: { username: 'rollback', how: 'changed' } });
      await tx.flush();
      throw new Error('the change failed');
    }),
  ).rejects.toThrow('the change failed');

  await smtp.noMailTo(to, 2500);
  expect(await rowsTo(server, to)).toHaveLength(0);
});

test('gives up after MAIL_MAX_ATTEMPTS: FAILED, params cleared, a warning without the link or the SMTP password', async () => {
  await smtp.stop();
  const log = captureLog();
  const smtpPassword = 'smtp-secret-31f7';
  const server = await serve(
    { ...FAST_RETRIES, MAIL_MAX_ATTEMPTS: '2', SMTP_URL: `smtp://mailer:${smtpPassword}@127.0.0.1:${smtp.port}` },
    { logger: log.logger },
  );
  const to = recipient('given-up');
  const token = 'reset-token-that-must-not-leak';
  await queue(server, MailKind.PASSWORD_RESET, [verification(server, to, token)]);

  expect(await eventually(async () => (await rowTo(server, to)).status === MailStatus.FAILED, 10_000)).toBe(true);
  const row = await rowTo(server, to);
  expect(row).toMatchObject({ attempts: 2, params: null, sentAt: null });
  expect(row.lastError).toMatch(/ECONNREFUSED/);
  expect(row.lastError).not.toContain(token);

  const warning = log.entries.find((entry) => entry.msg === 'mail given up');
  expect(warning).toMatchObject({ level: 40, mailId: row.id, kind: MailKind.PASSWORD_RESET, attempts: 2 });
  expect(log.text()).not.toContain(token);
  expect(log.text()).not.toContain(smtpPassword);

  // Given up means given up: the receiver back does not bring it.
  await smtp.start();
  await smtp.noMailTo(to, 2000);
});

test('mails are purged MAIL_RETENTION after they were queued, sent or still waiting', async () => {
  const server = await serve({ MAIL_RETENTION: '2s', SESSION_PURGE_INTERVAL: '1s' });
  const sentTo = recipient('purged');
  const waitingTo = recipient('waiting');
  await queue(server, MailKind.EMAIL_VERIFICATION, [verification(server, sentTo)]);
  // A mail whose next attempt is far ahead: still pending, its link must not outlive the retention.
  const em = server.orm.em.fork();
  em.create(OutboxMail, {
    kind: MailKind.EMAIL_VERIFICATION,
    recipient: waitingTo,
    params: { username: 'waiting', link: 'http://localhost/verify-email?token=later' },
    nextAttemptAt: new Date(Date.now() + 3600_000),
  });
  await em.flush();
  await smtp.waitForMail(sentTo);
  expect(await rowsTo(server, waitingTo)).toMatchObject([{ status: MailStatus.PENDING }]);

  expect(await eventually(async () => (await rowsTo(server, sentTo)).length === 0, 8000)).toBe(true);
  expect(await eventually(async () => (await rowsTo(server, waitingTo)).length === 0, 8000)).toBe(true);
});

test('a send that hangs holds no lock, and counts as a failure after MAIL_SEND_TIMEOUT', async () => {
  // Accepts connections and never greets: an SMTP server that hangs.
  const sockets = new Set<Socket>();
  const silent: NetServer = createNetServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as { port: number };
  try {
    const server = await serve({ ...FAST_RETRIES, SMTP_URL: `smtp://127.0.0.1:${port}`, MAIL_SEND_TIMEOUT: '1s' });
    const to = recipient('hang');
    await queue(server, MailKind.EMAIL_VERIFICATION, [verification(server, to)]);
    expect(await eventually(() => Promise.resolve(sockets.size > 0), 5000, 20)).toBe(true);

    // The worker is mid-send: the row is claimed but not locked, and queueing goes on as usual.
    const started = Date.now();
    const locked = await server.orm.em
      .fork()
      .getConnection()
      .execute('select id from mail_outbox where recipient = ? for update nowait', [to]);
    await queue(server, MailKind.EMAIL_VERIFICATION, [verification(server, recipient('meanwhile'))]);
    expect(locked).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(1000);

    expect(await eventually(async () => (await rowTo(server, to)).lastError !== null, 5000)).toBe(true);
    expect(await rowTo(server, to)).toMatchObject({ status: MailStatus.PENDING, attempts: 1 });
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  }
});

test('a server that accepts a mail only after MAIL_SEND_TIMEOUT gets it once, and it counts as sent', async () => {
  // Takes every mail, but answers its DATA after 1.3 s: past the 1 s deadline, within the lease.
  const accepted: string[] = [];
  const slow = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      stream.resume();
      stream.on('end', () => {
        accepted.push(session.envelope.rcptTo.map((rcpt) => rcpt.address).join(','));
        setTimeout(() => callback(), 1300);
      });
    },
  });
  await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
  const { port } = slow.server.address() as { port: number };
  try {
    const server = await serve({ ...FAST_RETRIES, SMTP_URL: `smtp://127.0.0.1:${port}`, MAIL_SEND_TIMEOUT: '1s' });
    const to = recipient('slow');
    await queue(server, MailKind.EMAIL_VERIFICATION, [verification(server, to)]);
    expect(await eventually(async () => (await rowTo(server, to)).status === MailStatus.SENT, 8000)).toBe(true);
    // Past the lease and a retry's delay: nothing was sent again.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(accepted).toEqual([to]);
    expect(await rowTo(server, to)).toMatchObject({ status: MailStatus.SENT, attempts: 1, params: null });
  } finally {
    await new Promise<void>((resolve) => slow.close(() => resolve()));
  }
});

test('without SMTP_URL (development) each mail is an .eml file only its owner reads, its link in the log', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tessera-mail-files-'));
  try {
    const log = captureLog();
    const server = await startTestServer({ TESSERA_DATA_DIR: dataDir }, undefined, { logger: log.logger });
    servers.push(server);
    const to = recipient('file');
    const mail = verification(server, to, 'file-token');
    await queue(server, MailKind.PASSWORD_RESET, [mail]);

    const mailDir = path.join(dataDir, 'mail');
    expect(await eventually(async () => (await rowTo(server, to)).status === MailStatus.SENT, 5000)).toBe(true);
    const files = readdirSync(mailDir);
    expect(files).toEqual([expect.stringMatching(/\.eml$/)]);
    const file = path.join(mailDir, files[0]);
    expect(statSync(mailDir).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const parsed = await simpleParser(readFileSync(file));
    expect(parsed.subject).toBe('Reset your password');
    expect(parsed.text).toContain(mail.params.link);
    expect(parsed.html).toContain(`href="${mail.params.link}"`);
    expect(parsed.headers.get('auto-submitted')).toBe('auto-generated');

    expect(log.entries).toContainEqual(expect.objectContaining({ level: 30, file, link: mail.params.link, to }));
  } finally {
    await Promise.all(servers.splice(0).map((server) => server.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  }
});
