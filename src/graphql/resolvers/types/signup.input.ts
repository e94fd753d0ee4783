import { Field, InputType } from 'type-graphql';
import type { SignupRequest } from '../../../auth/accounts.js';

@InputType('SignupInput')
export class SignupInput implements SignupRequest {
  @Field({ description: '3-32 of A-Z a-z 0-9 _ . -; unique regardless of case.' })
  username!: string;

  @Field({ description: 'Unique regardless of case.' })
  email!: string;

  @Field({ description: '8-256 characters after Unicode NFKC normalization; any characters, nothing trimmed.' })
  password!: string;
}
