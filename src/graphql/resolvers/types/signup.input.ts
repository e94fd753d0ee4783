import { Field, InputType } from 'type-graphql';
import { TokenTransport } from '../../../db/entities/index.js';
import type { SignupRequest } from '../../../auth/accounts.js';

@InputType('SignupInput')
export class SignupInput implements SignupRequest {
  @Field({ description: '3-32 of A-Z a-z 0-9 _ . -; unique regardless of case.' })
  username!: string;

  @Field({ description: 'Unique regardless of case.' })
  email!: string;

  @Field({ description: '8-256 characters after Unicode NFKC normalization; any characters, nothing trimmed.' })
  password!: string;

  @Field(() => TokenTransport, {
    defaultValue: TokenTransport.BODY,
    description:
      'COOKIE for browser apps: the refresh token is set as an HttpOnly cookie instead of returned. Refused (ORIGIN_NOT_ALLOWED) from a page on an origin that may not call with credentials.',
  })
  transport?: TokenTransport;
}
