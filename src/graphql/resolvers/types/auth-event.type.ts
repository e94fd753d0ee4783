import { Field, ID, ObjectType } from 'type-graphql';

@ObjectType('AuthEvent', { description: 'One entry of the audit trail. Never holds a password or a token.' })
export class AuthEventType {
  @Field(() => ID)
  id!: string;

  @Field({
    description:
      'SIGNUP, LOGIN_SUCCEEDED, LOGIN_FAILED, REFRESH, REFRESH_REUSE_DETECTED, LOGOUT, SESSION_REVOKED, REAUTHENTICATED, PASSWORD_CHANGED, ROLES_CHANGED, ACCOUNT_DISABLED, ACCOUNT_ENABLED, ACCOUNT_DELETED',
  })
  type!: string;

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
