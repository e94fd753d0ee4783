import type { Outbox } from '../mail/outbox.js';
import { AuthError, AuthFailure } from './auth-error.js';

/** MAIL_FLOWS=off: a flow that works by mail is refused rather than left waiting for a mail that never comes. */
export function assertMailFlows(outbox: Outbox): void {
  if (!outbox.enabled) throw new AuthError(AuthFailure.MAIL_DISABLED, 'This server sends no mail: this flow is off');
}
