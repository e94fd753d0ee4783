// A real SMTP server in the test process (smtp-server), reading what arrives with mailparser: the
// tests follow links from mails the way a user would. No TLS: it listens on 127.0.0.1 only.
import { simpleParser } from 'mailparser';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** The envelope's recipient. */
  readonly to: string;
  readonly from: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** The first URL in the text part, if any. */
  readonly link: string | undefined;
  readonly headers: ReadonlyMap<string, unknown>;
  /** The message as it arrived. */
  readonly raw: string;
}

export interface SmtpReceiver {
  /** smtp://127.0.0.1:<port>, for SMTP_URL. */
  readonly url: string;
  readonly port: number;
  /** Every mail received so far, in order of arrival. */
  readonly mails: readonly ReceivedMail[];
  /** The next mail to `to` not yet returned by waitForMail; rejects after `timeoutMs`. */
  waitForMail(to: string, timeoutMs?: number): Promise<ReceivedMail>;
  /** The `token` query parameter of the mail's link. */
  tokenOf(mail: ReceivedMail): string;
  /** Waits `waitMs` and rejects if a mail to `to` arrived that waitForMail has not returned. */
  noMailTo(to: string, waitMs: number): Promise<void>;
  /** Closes the port: the next connection is refused. */
  stop(): Promise<void>;
  /** Listens again, on the same port. */
  start(): Promise<void>;
}

export async function startSmtpReceiver(): Promise<SmtpReceiver> {
  const mails: ReceivedMail[] = [];
  const returned = new Set<ReceivedMail>();
  const waiters = new Set<() => void>();
  let server: SMTPServer | undefined;
  let port = 0;

  const received = (mail: ReceivedMail) => {
    mails.push(mail);
    for (const wake of [...waiters]) wake();
  };
  const unreturnedTo = (to: string) => mails.find((mail) => mail.to === to.toLowerCase() && !returned.has(mail));

  const listen = async (): Promise<void> => {
    const instance = new SMTPServer({
      authOptional: true,
      // Credentials in SMTP_URL work over the plain connection of the tests.
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      closeTimeout: 100,
      onAuth: (auth, _session, callback) => callback(null, { user: auth.username }),
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.once('end', () => {
          const raw = Buffer.concat(chunks);
          simpleParser(raw).then(
            (parsed) => {
              const text = parsed.text ?? '';
              const recipient = session.envelope.rcptTo[0]?.address ?? '';
              received({
                to: recipient.toLowerCase(),
                from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                subject: parsed.subject ?? '',
                text,
                html: typeof parsed.html === 'string' ? parsed.html : '',
                link: /https?:\/\/\S+/.exec(text)?.[0],
                headers: parsed.headers,
                raw: raw.toString('utf8'),
              });
              callback();
            },
            (error: Error) => callback(error),
          );
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      instance.server.once('error', reject);
      instance.listen(port, '127.0.0.1', () => {
        instance.server.off('error', reject);
        resolve();
      });
    });
    port = (instance.server.address() as AddressInfo).port;
    server = instance;
  };

  await listen();

  return {
    get url() {
      return `smtp://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    mails,
    waitForMail(to, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const mail = unreturnedTo(to);
          if (!mail) return;
          returned.add(mail);
          waiters.delete(check);
          clearTimeout(timer);
          resolve(mail);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `no mail to ${to} within ${timeoutMs} ms (received: ${mails.map((m) => m.to).join(', ') || 'none'})`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    tokenOf(mail) {
      if (!mail.link) throw new Error(`the mail "${mail.subject}" to ${mail.to} has no link`);
      const token = new URL(mail.link).searchParams.get('token');
      if (!token) throw new Error(`the link ${mail.link} has no token`);
      return token;
    },
    async noMailTo(to, waitMs) {
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      const mail = unreturnedTo(to);
      if (mail) throw new Error(`expected no mail to ${to}, got "${mail.subject}"`);
    },
    async stop() {
      const instance = server;
      server = undefined;
      if (instance) await new Promise<void>((resolve) => instance.close(() => resolve()));
    },
    async start() {
      if (!server) await listen();
    },
  };
}
