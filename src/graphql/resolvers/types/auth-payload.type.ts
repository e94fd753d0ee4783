import { Field, Int, ObjectType } from 'type-graphql';
import { TokenTransport } from '../../../db/entities/index.js';
import { UserType } from './user.type.js';

@ObjectType('AuthPayload')
export class AuthPayloadType {
  @Field({ description: 'Send as `<tokenType> <accessToken>` in the configured header (Authorization by default).' })
  accessToken!: string;

  @Field(() => String, {
    nullable: true,
    description:
      "Present to `refresh` for a new pair; keep it out of reach of scripts where you can. Null when the session's transport is COOKIE: it is in the HttpOnly refresh cookie.",
  })
  refreshToken!: string | null;

  @Field(() => TokenTransport, { description: "How this session's tokens travel." })
  transport!: TokenTransport;

  @Field({ description: 'The header scheme: "Bearer" by default.' })
  tokenType!: string;

  @Field(() => Int, { description: 'Seconds until accessToken expires.' })
  expiresIn!: number;

  @Field(() => Int, { description: 'Seconds until refreshToken expires.' })
  refreshExpiresIn!: number;

  @Field(() => UserType)
  user!: UserType;

  @Field(() => String, {
    nullable: true,
    description:
      'From signup and login only: keep it on this client and send it with its next logins (LoginInput.deviceToken). It grants nothing else.',
  })
  deviceToken?: string | null;
}
