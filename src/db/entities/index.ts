import { AuthEvent } from './auth-event.entity.js';
import { RateLimit } from './rate-limit.entity.js';
import { Session } from './session.entity.js';
import { Task } from './task.entity.js';
import { User } from './user.entity.js';

export { AuthEvent, RateLimit, Session, Task, User };
export { Role } from './role.enum.js';
export { TokenTransport } from './token-transport.enum.js';

export const ENTITIES = [User, Session, Task, AuthEvent, RateLimit];
