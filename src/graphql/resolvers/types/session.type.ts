import { Field, ID, ObjectType } from 'type-graphql';
import type { Session } from '../../../db/entities/index.js';

@ObjectType('Session', { description: 'A login on some device: its refresh tokens rotate, its end does not move.' })
export class SessionType {
  @Field(() => ID)
  id!: string;

  @Field()
  createdAt!: Date;

  @Field({ description: 'The last login, refresh or reauthentication.' })
  lastUsedAt!: Date;

  @Field({ description: 'Absolute: rotation never moves it.' })
  expiresAt!: Date;

  @Field(() => String, { nullable: true })
  userAgent!: string | null;

  @Field(() => String, { nullable: true })
  ip!: string | null;

  @Field({ description: 'The session of the token making this request.' })
  current!: boolean;
}

/** A session row as the API shows it; `currentSessionId` is the session of the token asking. */
export function toSessionType(session: Session, currentSessionId: string): SessionType {
  return {
    id: session.id,
    createdAt: session.createdAt,
    lastUsedAt: session.lastUsedAt,
    expiresAt: session.expiresAt,
    userAgent: session.userAgent,
    ip: session.ip,
    current: session.id === currentSessionId,
  };
}
