import { OptionalProps, types } from '@mikro-orm/core';
import { Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { randomUUID } from 'node:crypto';
import { Field, ID, ObjectType } from 'type-graphql';
import { User } from './user.entity.js';

/**
 * The application's own data, scoped to its owner. The entity is its own GraphQL type, since no
 * column is secret; `owner` is resolved in TaskResolver, where User's GraphQL type is known.
 */
@ObjectType('Task', { description: "The application's own data: visible to its owner and to ADMINs only." })
@Entity({ tableName: 'tasks' })
@Index({ name: 'tasks_owner_id_created_at_index', properties: ['owner', 'createdAt'] })
export class Task {
  [OptionalProps]?: 'id' | 'done' | 'createdAt';

  @Field(() => ID)
  @PrimaryKey({ type: types.uuid })
  id: string = randomUUID();

  @Field()
  @Property({ type: types.string, length: 200 })
  title!: string;

  @Field()
  @Property({ type: types.boolean })
  done: boolean = false;

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  owner!: User;

  @Field()
  @Property({ type: types.datetime })
  createdAt: Date = new Date();
}
