// Where a rendered mail goes: to the SMTP server of SMTP_URL, or, without one (development only:
// config refuses it in production), into an .eml file in the data directory, its link in the log,
// so that the mail flows work from the first `npm start`.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTransport } from 'nodemailer';
import type { MailConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { AUTOMATED_MAIL_HEADERS, type RenderedMail } from './templates.js';

export interface OutgoingMail extends RenderedMail {
  readonly to: string;
  /** The mail's one link, if it has one: the .eml mode logs it next to the file. */
  readonly link?: string;
}

export interface MailTransport {
  /** Resolves once the mail was accepted (by the SMTP server, or written); rejects with the refusal. */
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

export function createMailTransport(settings: MailConfig, logger: Logger): MailTransport {
  return settings.smtpUrl === undefined
    ? emlFileTransport(settings, logger)
    : smtpTransport(settings, settings.smtpUrl);
}

function smtpTransport(settings: MailConfig, smtpUrl: string): MailTransport {
  const timeoutMs = settings.sendTimeoutSeconds * 1000;
  const transporter = createTransport(
    {
      url: smtpUrl,
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      // Longer than the worker's deadline, within its claim (twice the deadline): a server that
      // takes the mail late is still heard, and the mail counts as sent rather than going again.
      socketTimeout: timeoutMs * 1.5,
      dnsTimeout: timeoutMs,
      // nodemailer's own logger would print the SMTP dialogue, credentials included.
      logger: false,
    },
    { from: settings.from, headers: AUTOMATED_MAIL_HEADERS },
  );
  return {
    async send(mail) {
      await transporter.sendMail(message(mail));
    },
    close: () => transporter.close(),
  };
}

function emlFileTransport(settings: MailConfig, logger: Logger): MailTransport {
  const composer = createTransport(
    { streamTransport: true, buffer: true, newline: 'unix' },
    { from: settings.from, headers: AUTOMATED_MAIL_HEADERS },
  );
  let dirReady: Promise<unknown> | undefined;
  let sequence = 0;
  return {
    async send(mail) {
      const { message: eml } = await composer.sendMail(message(mail));
      // A link in these files opens the account: only their owner may read them.
      dirReady ??= mkdir(settings.fileDir, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
        dirReady = undefined;
        throw error;
      });
      await dirReady;
      sequence += 1;
      const file = path.join(
        settings.fileDir,
        `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}-${sequence}.eml`,
      );
      await writeFile(file, eml as Buffer, { mode: 0o600, flag: 'wx' });
      logger.info({ file, to: mail.to, link: mail.link }, 'mail written to a file (no SMTP_URL: development only)');
    },
    close: () => composer.close(),
  };
}

function message(mail: OutgoingMail) {
  return { to: mail.to, subject: mail.subject, text: mail.text, html: mail.html };
}
