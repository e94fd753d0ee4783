import { Field, ID, ObjectType } from 'type-graphql';
import { FastAuthorized } from '../../fast-path/index.js';
import { UserType } from './user.type.js';

@FastAuthorized()
@ObjectType('Task', { description: "The application's own data: visible to its owner and to ADMINs only." })
export class TaskType {
  @Field(() => ID)
  id!: string;

  @Field()
  title!: string;

  @Field()
  done!: boolean;

  @Field(() => UserType)
  owner!: UserType;

  @Field()
  createdAt!: Date;
}
