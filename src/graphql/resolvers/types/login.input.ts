import { Field, InputType } from 'type-graphql';

@InputType('LoginInput')
export class LoginInput {
  @Field({ description: 'The username or the email address, in any case.' })
  usernameOrEmail!: string;

  @Field()
  password!: string;
}
