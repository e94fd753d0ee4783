import { Field, InputType } from 'type-graphql';

@InputType('SignupInput')
export class SignupInput {
  @Field({ description: '3-32 of A-Z a-z 0-9 _ . -; unique regardless of case.' })
  username!: string;

  @Field({ description: 'Unique regardless of case.' })
  email!: string;

  @Field({ description: '8-256 characters after Unicode NFKC normalization; any characters, nothing trimmed.' })
  password!: string;
}
