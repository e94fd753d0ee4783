import { OptionalProps, types } from '@mikro-orm/core';
import { Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { randomUUID } from 'node:crypto';
import { User } from './user.entity.js';

/** The application's own data: a resource scoped to its owner. */
@Entity({ tableName: 'tasks' })
@Index({ name: 'tasks_owner_id_created_at_index', properties: ['owner', 'createdAt'] })
export class Task {
  [OptionalProps]?: 'id' | 'done' | 'createdAt';

  @PrimaryKey({ type: types.uuid })
  id: string = randomUUID();

  @Property({ type: types.string, length: 200 })
  title!: string;

  @Property({ type: types.boolean })
  done: boolean = false;

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  owner!: User;

  @Property({ type: types.datetime })
  createdAt: Date = new Date();
}
