// What each mail says: both parts for every kind, every parameter escaped in HTML, the link only in
// link mails (and only once per part), no URL at all in notices.
import { MailKind, type MailParams } from '../../src/mail/mail-kind.js';
import { renderMail, renderStoredMail } from '../../src/mail/templates.js';

const LINK = 'https://app.example.com/reset-password?token=tok_abc-123';
const HOSTILE = `<script>alert("x")</script>&'`;

const SAMPLES: { [K in MailKind]: MailParams[K] } = {
  [MailKind.EMAIL_VERIFICATION]: { username: HOSTILE, link: LINK },
  [MailKind.PASSWORD_RESET]: { username: HOSTILE, link: LINK },
  [MailKind.EMAIL_CHANGE]: { username: HOSTILE, link: LINK },
  [MailKind.SIGNUP_ATTEMPT]: { attempt: 'register' },
  [MailKind.PASSWORD_CHANGED]: { username: HOSTILE, how: 'reset' },
  [MailKind.EMAIL_CHANGED]: { username: HOSTILE, newEmail: 'j***@example.org' },
  [MailKind.TWO_FACTOR_ENABLED]: { username: HOSTILE },
  [MailKind.TWO_FACTOR_DISABLED]: { username: HOSTILE },
  [MailKind.RECOVERY_CODE_USED]: { username: HOSTILE, remaining: 9 },
};
const LINK_MAILS = [MailKind.EMAIL_VERIFICATION, MailKind.PASSWORD_RESET, MailKind.EMAIL_CHANGE];
const NOTICES = Object.values(MailKind).filter((kind) => !LINK_MAILS.includes(kind));

const render = (kind: MailKind) => renderMail(kind, SAMPLES[kind] as never);
const occurrences = (text: string, part: string) => text.split(part).length - 1;

test.each(Object.values(MailKind))('%s has a subject, a text and an HTML part', (kind) => {
  const mail = render(kind);
  expect(mail.subject.length).toBeGreaterThan(5);
  expect(mail.text.trim().length).toBeGreaterThan(20);
  expect(mail.html).toMatch(/^<!doctype html>/);
});

test.each(Object.values(MailKind))('%s escapes every parameter in its HTML part', (kind) => {
  const { html, text } = render(kind);
  expect(html).not.toContain('<script>');
  if ('username' in SAMPLES[kind]) {
    expect(html).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#38;&#39;');
    expect(text).toContain(HOSTILE);
  }
});

test.each(LINK_MAILS)('%s carries its link once in each part, and no other URL', (kind) => {
  const { text, html } = render(kind);
  expect(occurrences(text, LINK)).toBe(1);
  expect(text.match(/https?:\/\//g)).toHaveLength(1);
  expect(html).toContain(`<a href="${LINK}">${LINK}</a>`);
  expect(html.match(/https?:\/\//g)).toHaveLength(2);
});

test('a link with markup in it is escaped in the href as well', () => {
  const { html } = renderMail(MailKind.PASSWORD_RESET, {
    username: 'ada',
    link: 'https://app.example.com/r?token="><b>',
  });
  expect(html).toContain('href="https://app.example.com/r?token=&#34;&#62;&#60;b&#62;"');
});

test.each(NOTICES)('%s contains no URL', (kind) => {
  const { subject, text, html } = render(kind);
  expect(`${subject}${text}${html}`).not.toMatch(/https?:|www\./);
});

test('the notices say what happened', () => {
  expect(renderMail(MailKind.PASSWORD_CHANGED, { username: 'ada', how: 'changed' }).subject).toBe(
    'Your password was changed',
  );
  expect(renderMail(MailKind.PASSWORD_CHANGED, { username: 'ada', how: 'reset' }).subject).toBe(
    'Your password was reset',
  );
  expect(renderMail(MailKind.EMAIL_CHANGED, { username: 'ada', newEmail: 'j***@example.org' }).text).toContain(
    'j***@example.org',
  );
  expect(renderMail(MailKind.SIGNUP_ATTEMPT, { attempt: 'register' }).text).toContain('create an account');
  expect(renderMail(MailKind.SIGNUP_ATTEMPT, { attempt: 'email-change' }).text).toContain('move another account');
});

test('a stored mail of an unknown kind, or missing a parameter, is refused rather than sent', () => {
  expect(() => renderStoredMail('NEWSLETTER', { username: 'ada' })).toThrow('unknown mail kind "NEWSLETTER"');
  expect(() => renderStoredMail(MailKind.PASSWORD_RESET, { username: 'ada' })).toThrow('lacks its parameters: link');
  expect(() => renderStoredMail(MailKind.PASSWORD_RESET, null)).toThrow('lacks its parameters: username, link');
  expect(renderStoredMail(MailKind.PASSWORD_RESET, { username: 'ada', link: LINK })).toMatchObject({ link: LINK });
  expect(renderStoredMail(MailKind.SIGNUP_ATTEMPT, { attempt: 'register' })).not.toHaveProperty('link');
});
