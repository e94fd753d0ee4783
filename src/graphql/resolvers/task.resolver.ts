import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { toUserView, type UserView } from '../../auth/user-view.js';
import { Role, Task } from '../../db/entities/index.js';
import type { Context } from '../context.js';
import { FastAuthorized } from '../fast-path/index.js';
import { ErrorCode, PublicError } from '../errors.js';
import { findOwned, requireOwned } from './ownership.js';
import { UserType } from './types/user.type.js';
import { viewerOf } from './viewer.js';

const TITLE_MAX_LENGTH = 200;
const OLDEST_FIRST = { createdAt: 'asc', id: 'asc' } as const;

function hasControlCharacter(text: string): boolean {
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

function checkTitle(raw: string): string {
  const title = raw.trim();
  // PostgreSQL text cannot hold NUL; other control characters have no place in a title either.
  if (title.length < 1 || title.length > TITLE_MAX_LENGTH || hasControlCharacter(title)) {
    throw new PublicError(
      ErrorCode.BAD_USER_INPUT,
      `title must be 1 to ${TITLE_MAX_LENGTH} characters, without control characters`,
      { field: 'title' },
    );
  }
  return title;
}

@Resolver(() => Task)
export class TaskResolver {
  @Authorized()
  @FastAuthorized()
  @Query(() => [Task], { description: "The viewer's own tasks, oldest first." })
  myTasks(@Ctx() context: Context): Promise<Task[]> {
    return context.em.find(Task, { owner: viewerOf(context).user.id }, { orderBy: OLDEST_FIRST });
  }

  @Authorized(Role.ADMIN)
  @Query(() => [Task], { description: "Every user's tasks, oldest first: ADMIN only." })
  allTasks(@Ctx() context: Context): Promise<Task[]> {
    return context.em.find(Task, {}, { orderBy: OLDEST_FIRST, populate: ['owner'] });
  }

  @Authorized()
  @Query(() => Task, {
    nullable: true,
    description: 'A task of the viewer (any task for an ADMIN); null otherwise.',
  })
  task(@Arg('id', () => ID) id: string, @Ctx() context: Context): Promise<Task | null> {
    return findOwned(context, Task, id);
  }

  @Authorized()
  @Mutation(() => Task)
  async createTask(@Arg('title') title: string, @Ctx() context: Context): Promise<Task> {
    const task = context.em.create(Task, { title: checkTitle(title), owner: viewerOf(context).user.id });
    await context.em.persist(task).flush();
    return task;
  }

  @Authorized()
  @Mutation(() => Task, { description: 'Owner or ADMIN; anyone else gets NOT_FOUND.' })
  async updateTask(
    @Arg('id', () => ID) id: string,
    @Arg('title', () => String, { nullable: true }) title: string | null | undefined,
    @Arg('done', () => Boolean, { nullable: true }) done: boolean | null | undefined,
    @Ctx() context: Context,
  ): Promise<Task> {
    const task = await requireOwned(context, Task, id);
    if (title !== null && title !== undefined) task.title = checkTitle(title);
    if (done !== null && done !== undefined) task.done = done;
    await context.em.flush();
    return task;
  }

  @Authorized()
  @Mutation(() => Boolean, { description: 'Owner or ADMIN; anyone else gets NOT_FOUND.' })
  async deleteTask(@Arg('id', () => ID) id: string, @Ctx() context: Context): Promise<boolean> {
    const task = await requireOwned(context, Task, id);
    await context.em.remove(task).flush();
    return true;
  }

  /** The viewer is at hand for their own tasks; only an ADMIN's view of another's loads the owner. */
  @FieldResolver(() => UserType)
  async owner(@Root() task: Task, @Ctx() context: Context): Promise<UserView> {
    const viewer = viewerOf(context);
    if (task.owner.id === viewer.user.id) return viewer.user;
    await context.em.populate(task, ['owner']);
    return toUserView(task.owner);
  }
}
