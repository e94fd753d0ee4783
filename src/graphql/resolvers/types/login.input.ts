import { Field, InputType } from 'type-graphql';
import { TokenTransport } from '../../../db/entities/index.js';
import type { LoginRequest } from '../../../auth/accounts.js';

@InputType('LoginInput')
export class LoginInput implements LoginRequest {
  @Field({ description: 'The username or the email address, in any case.' })
  usernameOrEmail!: string;

  @Field()
  password!: string;

  @Field(() => String, {
    nullable: true,
    description:
      'The deviceToken of an earlier signup or login on this client: while repeated failures lock the account, it still lets this client try (against a count of its own). One that fails any check is ignored.',
  })
  deviceToken?: string | null;

  @Field(() => TokenTransport, {
    defaultValue: TokenTransport.BODY,
    description:
      'COOKIE for browser apps: the refresh token is set as an HttpOnly cookie instead of returned. Refused (ORIGIN_NOT_ALLOWED) from a page on an origin that may not call with credentials.',
  })
  transport?: TokenTransport;
}
