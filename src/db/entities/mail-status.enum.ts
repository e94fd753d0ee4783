export enum MailStatus {
  PENDING = 'PENDING',
  SENT = 'SENT',
  /** Given up after MAIL_MAX_ATTEMPTS. */
  FAILED = 'FAILED',
}
