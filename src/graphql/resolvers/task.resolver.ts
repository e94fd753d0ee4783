import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { toUserView, type UserView } from '../../auth/user-view.js';
import { Task } from '../../db/entities/index.js';
import type { Context } from '../context.js';
import { FastAuthorized } from '../fast-path/index.js';
import { ErrorCode, notFound, PublicError } from '../errors.js';
import { isUuid } from '../../auth/ids.js';
import { TaskType } from './types/task.type.js';
import { ownerOrAdmin } from './ownership.js';
import { viewerOf } from './viewer.js';

const TITLE_MAX_LENGTH = 200;

/** `owner` may be passed when it is already at hand (the viewer), saving the load. */
function toTaskType(task: Task, owner: UserView = toUserView(task.owner)): TaskType {
  return { id: task.id, title: task.title, done: task.done, owner, createdAt: task.createdAt };
}

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

/**
 * The task if the viewer may see it, else null: to anyone else a task they may not see is
 * indistinguishable from one that does not exist.
 */
async function findVisibleTask(context: Context, id: string): Promise<Task | null> {
  if (!isUuid(id)) return null;
  return context.em.findOne(Task, { id, ...ownerOrAdmin(viewerOf(context)) }, { populate: ['owner'] });
}

@Resolver(() => TaskType)
export class TaskResolver {
  @Authorized()
  @FastAuthorized()
  @Query(() => [TaskType], { description: "The viewer's own tasks, oldest first." })
  async myTasks(@Ctx() context: Context): Promise<TaskType[]> {
    const viewer = viewerOf(context);
    const tasks = await context.em.find(Task, { owner: viewer.user.id }, { orderBy: { createdAt: 'asc', id: 'asc' } });
    return tasks.map((task) => toTaskType(task, viewer.user));
  }

  @Authorized()
  @Query(() => TaskType, {
    nullable: true,
    description: 'A task of the viewer (any task for an ADMIN); null otherwise.',
  })
  async task(@Arg('id', () => ID) id: string, @Ctx() context: Context): Promise<TaskType | null> {
    const task = await findVisibleTask(context, id);
    return task ? toTaskType(task) : null;
  }

  @Authorized()
  @Mutation(() => TaskType)
  async createTask(@Arg('title') title: string, @Ctx() context: Context): Promise<TaskType> {
    const viewer = viewerOf(context);
    const task = context.em.create(Task, { title: checkTitle(title), owner: viewer.user.id });
    await context.em.persist(task).flush();
    return toTaskType(task, viewer.user);
  }

  @Authorized()
  @Mutation(() => TaskType, { description: 'Owner or ADMIN; anyone else gets NOT_FOUND.' })
  async updateTask(
    @Arg('id', () => ID) id: string,
    @Arg('title', () => String, { nullable: true }) title: string | null | undefined,
    @Arg('done', () => Boolean, { nullable: true }) done: boolean | null | undefined,
    @Ctx() context: Context,
  ): Promise<TaskType> {
    const task = await findVisibleTask(context, id);
    if (!task) throw notFound('Task');
    if (title !== null && title !== undefined) task.title = checkTitle(title);
    if (done !== null && done !== undefined) task.done = done;
    await context.em.flush();
    return toTaskType(task);
  }

  @Authorized()
  @Mutation(() => Boolean, { description: 'Owner or ADMIN; anyone else gets NOT_FOUND.' })
  async deleteTask(@Arg('id', () => ID) id: string, @Ctx() context: Context): Promise<boolean> {
    const task = await findVisibleTask(context, id);
    if (!task) throw notFound('Task');
    await context.em.remove(task).flush();
    return true;
  }
}
