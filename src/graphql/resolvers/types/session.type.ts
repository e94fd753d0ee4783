import { Field, ID, ObjectType } from 'type-graphql';

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
