import { AuthEvent } from './auth-event.entity.js';
import { OneTimeToken } from './one-time-token.entity.js';
import { OutboxMail } from './outbox-mail.entity.js';
import { RateLimit } from './rate-limit.entity.js';
import { RecoveryCode } from './recovery-code.entity.js';
import { Registration } from './registration.entity.js';
import { Session } from './session.entity.js';
import { Task } from './task.entity.js';
import { TotpFactor } from './totp-factor.entity.js';
import { User } from './user.entity.js';

export { AuthEvent, OneTimeToken, OutboxMail, RateLimit, RecoveryCode, Registration, Session, Task, TotpFactor, User };
export { MailStatus } from './mail-status.enum.js';
export { OneTimeTokenPurpose } from './one-time-token-purpose.enum.js';
export { Role } from './role.enum.js';
export { TokenTransport } from './token-transport.enum.js';

export const ENTITIES = [
  User,
  Session,
  Task,
  AuthEvent,
  RateLimit,
  OneTimeToken,
  OutboxMail,
  Registration,
  TotpFactor,
  RecoveryCode,
];
