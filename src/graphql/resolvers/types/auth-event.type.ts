import { Field, ID, ObjectType } from 'type-graphql';
import { AuthEventKind } from '../../../auth/audit.js';

@ObjectType('AuthEvent', { description: 'One entry of the audit trail. Never holds a password or a token.' })
export class AuthEventType {
  @Field(() => ID)
  id!: string;

  @Field(() => AuthEventKind)
  type!: AuthEventKind;

  @Field(() => ID, { nullable: true })
  userId!: string | null;

  @Field(() => ID, { nullable: true, description: 'Who acted, when not the user themself.' })
  actorId!: string | null;

  @Field(() => ID, { nullable: true })
  sessionId!: string | null;

  @Field(() => String, { nullable: true })
  ip!: string | null;

  @Field()
  createdAt!: Date;
}
