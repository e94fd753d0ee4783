// What each mail says, as plain text and as HTML. A link mail carries its one link, the only secret
// a mail may hold; a notice carries none, so that nothing in it can undo or confirm anything.
import { MailKind, type MailParams } from './mail-kind.js';

export interface RenderedMail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/** On every mail: an automatic message, so that vacation responders do not answer it (RFC 3834). */
export const AUTOMATED_MAIL_HEADERS: Readonly<Record<string, string>> = { 'Auto-Submitted': 'auto-generated' };

/** A mail's content: paragraphs, and the link (its own paragraph) if it has one. */
interface Content {
  subject: string;
  paragraphs: string[];
  link?: { before: string; url: string; after: string[] };
}

type Templates = { [K in MailKind]: (params: MailParams[K]) => Content };

const TEMPLATES: Templates = {
  [MailKind.EMAIL_VERIFICATION]: ({ username, link }) => ({
    subject: 'Confirm your email address',
    paragraphs: [`Hello ${username},`],
    link: {
      before: 'Please confirm that this address belongs to your account by opening this link:',
      url: link,
      after: ['If you did not ask for this, ignore this mail.'],
    },
  }),
  [MailKind.PASSWORD_RESET]: ({ username, link }) => ({
    subject: 'Reset your password',
    paragraphs: [`Hello ${username},`],
    link: {
      before: 'Someone asked to reset the password of your account. To choose a new password, open this link:',
      url: link,
      after: [
        'The link works once and expires soon. If you did not ask for this, ignore this mail: your password stays as it is.',
      ],
    },
  }),
  [MailKind.EMAIL_CHANGE]: ({ username, link }) => ({
    subject: 'Confirm your new email address',
    paragraphs: [`Hello ${username},`],
    link: {
      before: 'Someone asked to move your account to this address. To confirm the change, open this link:',
      url: link,
      after: ['If you did not ask for this, ignore this mail: nothing changes.'],
    },
  }),
  [MailKind.SIGNUP_ATTEMPT]: ({ attempt }) => ({
    subject: 'Someone tried to use your email address',
    paragraphs: [
      attempt === 'register'
        ? 'Someone tried to create an account with this email address, which already has one.'
        : 'Someone tried to move another account to this email address, which already has one.',
      'Nothing was changed. If it was you, sign in with your account, or reset your password if you forgot it. If not, you can ignore this mail.',
    ],
  }),
  [MailKind.PASSWORD_CHANGED]: ({ username, how }) => ({
    subject: how === 'reset' ? 'Your password was reset' : 'Your password was changed',
    paragraphs: [
      `Hello ${username},`,
      how === 'reset'
        ? 'The password of your account was reset through a link sent to this address, and every session was signed out.'
        : 'The password of your account was changed.',
      'If this was not you, reset your password at once and tell the service.',
    ],
  }),
  [MailKind.EMAIL_CHANGED]: ({ username, newEmail }) => ({
    subject: 'Your email address was changed',
    paragraphs: [
      `Hello ${username},`,
      `Your account now uses the address ${newEmail}. This address will no longer receive its mail.`,
      'If this was not you, tell the service at once.',
    ],
  }),
  [MailKind.TWO_FACTOR_ENABLED]: ({ username }) => ({
    subject: 'Two-factor authentication is on',
    paragraphs: [
      `Hello ${username},`,
      'Signing in to your account now needs a code from your authenticator app (or one of your recovery codes) after the password.',
      'If this was not you, reset your password at once and tell the service.',
    ],
  }),
  [MailKind.TWO_FACTOR_DISABLED]: ({ username }) => ({
    subject: 'Two-factor authentication was turned off',
    paragraphs: [
      `Hello ${username},`,
      'Your account no longer asks for an authenticator code, and every other session was signed out.',
      'If this was not you, reset your password at once and tell the service.',
    ],
  }),
  [MailKind.RECOVERY_CODE_USED]: ({ username, remaining }) => ({
    subject: 'A recovery code was used',
    paragraphs: [
      `Hello ${username},`,
      `One of the recovery codes of your account was just used in place of an authenticator code. ${remaining} unused ${remaining === 1 ? 'code is' : 'codes are'} left.`,
      'If this was not you, reset your password and turn two-factor off and on again at once, then tell the service.',
    ],
  }),
};

/** Every parameter each kind needs: a stored mail missing one is refused rather than sent half-empty. */
const REQUIRED: { [K in MailKind]: readonly (keyof MailParams[K])[] } = {
  [MailKind.EMAIL_VERIFICATION]: ['username', 'link'],
  [MailKind.PASSWORD_RESET]: ['username', 'link'],
  [MailKind.EMAIL_CHANGE]: ['username', 'link'],
  [MailKind.SIGNUP_ATTEMPT]: ['attempt'],
  [MailKind.PASSWORD_CHANGED]: ['username', 'how'],
  [MailKind.EMAIL_CHANGED]: ['username', 'newEmail'],
  [MailKind.TWO_FACTOR_ENABLED]: ['username'],
  [MailKind.TWO_FACTOR_DISABLED]: ['username'],
  [MailKind.RECOVERY_CODE_USED]: ['username', 'remaining'],
};

export function renderMail<K extends MailKind>(kind: K, params: MailParams[K]): RenderedMail {
  const template = TEMPLATES[kind] as (params: MailParams[K]) => Content;
  return format(template(params));
}

/** A mail as the outbox stores it (kind and params from a JSON column), checked, then rendered. */
export function renderStoredMail(
  kind: string,
  params: Record<string, unknown> | null,
): RenderedMail & { link?: string } {
  if (!isMailKind(kind)) throw new Error(`unknown mail kind ${JSON.stringify(kind)}`);
  const missing = REQUIRED[kind].filter((name) => !['string', 'number'].includes(typeof params?.[name as string]));
  if (missing.length > 0) throw new Error(`mail ${kind} lacks its parameters: ${missing.join(', ')}`);
  const link = typeof params?.link === 'string' ? params.link : undefined;
  return { ...renderMail(kind, params as never), ...(link === undefined ? {} : { link }) };
}

function isMailKind(kind: string): kind is MailKind {
  return Object.values(MailKind).includes(kind as MailKind);
}

function format({ subject, paragraphs, link }: Content): RenderedMail {
  const textBlocks = [...paragraphs, ...(link ? [link.before, link.url, ...link.after] : [])];
  const htmlBlocks = [
    ...paragraphs.map((paragraph) => `<p>${escapeHtml(paragraph)}</p>`),
    ...(link
      ? [
          `<p>${escapeHtml(link.before)}</p>`,
          `<p><a href="${escapeHtml(link.url)}">${escapeHtml(link.url)}</a></p>`,
          ...link.after.map((paragraph) => `<p>${escapeHtml(paragraph)}</p>`),
        ]
      : []),
  ];
  return {
    subject,
    text: `${textBlocks.join('\n\n')}\n`,
    html: `<!doctype html>\n<html><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head><body>\n${htmlBlocks.join('\n')}\n</body></html>\n`,
  };
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
