// Tasks, the application's own data: each user sees and changes only their own; to anyone else
// (except an ADMIN) a task is indistinguishable from one that does not exist.
import { Task } from '../../src/db/entities/index.js';
import { createAdmin } from '../helpers/fixtures.js';
import { onlyError, type AuthPayload, type GraphQLResult } from '../helpers/graphql-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const TASK_FIELDS = 'id title done createdAt owner { id username email }';
const CREATE = `mutation Create($title: String!) { createTask(title: $title) { ${TASK_FIELDS} } }`;
const MY_TASKS = `{ myTasks { ${TASK_FIELDS} } }`;
const ALL_TASKS = `{ allTasks { ${TASK_FIELDS} } }`;
const TASK = `query Task($id: ID!) { task(id: $id) { ${TASK_FIELDS} } }`;
const UPDATE = `mutation Update($id: ID!, $title: String, $done: Boolean) { updateTask(id: $id, title: $title, done: $done) { ${TASK_FIELDS} } }`;
const DELETE = 'mutation Delete($id: ID!) { deleteTask(id: $id) }';
const MISSING_ID = '3b0e7c1d-0000-4000-8000-000000000000';

interface TaskView {
  id: string;
  title: string;
  done: boolean;
  createdAt: string;
  owner: { id: string; username: string; email: string | null };
}

let app: TestServer;
let admin: AuthPayload;
let tina: AuthPayload;
let umar: AuthPayload;

beforeAll(async () => {
  app = await startTestServer();
  admin = await createAdmin(app);
  tina = await app.client.signup('tina');
  umar = await app.client.signup('umar');
});
afterAll(() => app.stop());

async function createTask(owner: AuthPayload, title: string): Promise<TaskView> {
  const result = await app.client.request(CREATE, { title }, { token: owner.accessToken });
  if (!result.data?.createTask) throw new Error(`createTask failed: ${JSON.stringify(result.errors)}`);
  return result.data.createTask;
}

async function storedTask(id: string): Promise<Task | null> {
  return app.orm.em.fork().findOne(Task, { id });
}

function expectNotFound(result: GraphQLResult, path: string): void {
  expect(result.data ?? null).toBeNull();
  const error = onlyError(result);
  expect(error.path).toEqual([path]);
  expect(error.extensions?.code).toBe('NOT_FOUND');
}

describe('createTask and myTasks', () => {
  test('creates an undone task owned by the viewer, its owner resolved', async () => {
    const task = await createTask(tina, 'Buy milk');
    expect(task).toMatchObject({
      title: 'Buy milk',
      done: false,
      owner: { id: tina.user.id, username: 'tina', email: 'tina@example.com' },
    });
    expect(Number.isNaN(Date.parse(task.createdAt))).toBe(false);
    const stored = await storedTask(task.id);
    expect(stored?.owner.id).toBe(tina.user.id);
  });

  test("lists only the viewer's own tasks, oldest first", async () => {
    const viewer = await app.client.signup('vera');
    const other = await app.client.signup('walt');
    const first = await createTask(viewer, 'first');
    await createTask(other, 'not mine');
    const second = await createTask(viewer, 'second');
    const mine = await app.client.request(MY_TASKS, {}, { token: viewer.accessToken });
    expect(mine.errors).toBeUndefined();
    expect(mine.data.myTasks.map((task: TaskView) => task.id)).toEqual([first.id, second.id]);
    expect(mine.data.myTasks.every((task: TaskView) => task.owner.id === viewer.user.id)).toBe(true);
  });

  test('lists nothing for a user without tasks', async () => {
    const empty = await app.client.signup('xavier');
    const result = await app.client.request(MY_TASKS, {}, { token: empty.accessToken });
    expect(result.data).toEqual({ myTasks: [] });
  });

  test.each([
    ['empty', ''],
    ['only spaces', '   '],
    ['longer than 200 characters', 'x'.repeat(201)],
    // PostgreSQL cannot store U+0000 in text: the client's input, not an outage.
    ['containing a NUL byte', 'milk\u0000eggs'],
  ])('refuses a title that is %s with BAD_USER_INPUT and creates nothing', async (_label, title) => {
    const before = await app.orm.em.fork().count(Task, { owner: tina.user.id });
    const result = await app.client.request(CREATE, { title }, { token: tina.accessToken });
    expect(result.data ?? null).toBeNull();
    expect(onlyError(result).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'title' });
    expect(await app.orm.em.fork().count(Task, { owner: tina.user.id })).toBe(before);
  });

  test('refuses createTask and myTasks without a token as UNAUTHENTICATED', async () => {
    const create = await app.client.request(CREATE, { title: 'anonymous' });
    expect(onlyError(create).extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_MISSING' });
    const list = await app.client.request(MY_TASKS);
    expect(onlyError(list).extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_MISSING' });
  });
});

describe('allTasks', () => {
  test("shows an ADMIN every user's tasks, oldest first, each with its owner", async () => {
    const first = await createTask(tina, 'for the audit');
    const second = await createTask(umar, 'also for the audit');
    const result = await app.client.request(ALL_TASKS, {}, { token: admin.accessToken });
    expect(result.errors).toBeUndefined();
    const ids = result.data.allTasks.map((task: TaskView) => task.id);
    expect(ids.indexOf(first.id)).toBeGreaterThanOrEqual(0);
    expect(ids.indexOf(second.id)).toBeGreaterThan(ids.indexOf(first.id));
    expect(result.data.allTasks).toContainEqual(second);
    expect(await app.orm.em.fork().count(Task)).toBe(ids.length);
  });

  test('refuses a signed-in USER with FORBIDDEN and shows them nothing', async () => {
    await createTask(tina, 'not for umar');
    const result = await app.client.request(ALL_TASKS, {}, { token: umar.accessToken });
    expect(result.data ?? null).toBeNull();
    expect(onlyError(result).extensions?.code).toBe('FORBIDDEN');
  });

  test('refuses a caller without a token as UNAUTHENTICATED', async () => {
    const result = await app.client.request(ALL_TASKS);
    expect(onlyError(result).extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_MISSING' });
  });
});

describe('task(id)', () => {
  let tinasTask: TaskView;
  beforeAll(async () => {
    tinasTask = await createTask(tina, 'Tina only');
  });

  test('returns the task to its owner', async () => {
    const result = await app.client.request(TASK, { id: tinasTask.id }, { token: tina.accessToken });
    expect(result.errors).toBeUndefined();
    expect(result.data.task).toEqual(tinasTask);
  });

  test("answers another user's task with null, exactly as a nonexistent id", async () => {
    const foreign = await app.client.request(TASK, { id: tinasTask.id }, { token: umar.accessToken });
    const missing = await app.client.request(TASK, { id: MISSING_ID }, { token: umar.accessToken });
    expect(foreign.data).toEqual({ task: null });
    expect(foreign.errors).toBeUndefined();
    expect(JSON.stringify({ data: foreign.data, errors: foreign.errors })).toBe(
      JSON.stringify({ data: missing.data, errors: missing.errors }),
    );
    expect(foreign.status).toBe(missing.status);
  });

  test('answers an id that is not a UUID with null and no error', async () => {
    const result = await app.client.request(TASK, { id: 'not-a-uuid' }, { token: umar.accessToken });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ task: null });
  });

  test("shows an ADMIN any task, with its owner and the owner's email", async () => {
    const result = await app.client.request(TASK, { id: tinasTask.id }, { token: admin.accessToken });
    expect(result.errors).toBeUndefined();
    expect(result.data.task).toEqual(tinasTask);
    expect(result.data.task.owner).toEqual({ id: tina.user.id, username: 'tina', email: 'tina@example.com' });
  });
});

describe('updateTask and deleteTask', () => {
  test('lets the owner change the title and the done flag, each alone or together', async () => {
    const task = await createTask(tina, 'draft');
    const renamed = await app.client.request(UPDATE, { id: task.id, title: 'final' }, { token: tina.accessToken });
    expect(renamed.errors).toBeUndefined();
    expect(renamed.data.updateTask).toMatchObject({
      id: task.id,
      title: 'final',
      done: false,
      owner: { id: tina.user.id },
    });
    const done = await app.client.request(UPDATE, { id: task.id, done: true }, { token: tina.accessToken });
    expect(done.data.updateTask).toMatchObject({ title: 'final', done: true });
    const both = await app.client.request(
      UPDATE,
      { id: task.id, title: 'again', done: false },
      { token: tina.accessToken },
    );
    expect(both.data.updateTask).toMatchObject({ title: 'again', done: false });
    expect(await storedTask(task.id)).toMatchObject({ title: 'again', done: false });
  });

  test('refuses an empty title on update with BAD_USER_INPUT and keeps the task', async () => {
    const task = await createTask(tina, 'keep me');
    const result = await app.client.request(UPDATE, { id: task.id, title: '' }, { token: tina.accessToken });
    expect(onlyError(result).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'title' });
    expect(await storedTask(task.id)).toMatchObject({ title: 'keep me', done: false });
  });

  test("answers an update of another user's task with NOT_FOUND, as for a nonexistent id, and leaves it unchanged", async () => {
    const task = await createTask(tina, 'untouchable');
    const foreign = await app.client.request(
      UPDATE,
      { id: task.id, title: 'hijacked', done: true },
      { token: umar.accessToken },
    );
    const missing = await app.client.request(
      UPDATE,
      { id: MISSING_ID, title: 'hijacked', done: true },
      { token: umar.accessToken },
    );
    expectNotFound(foreign, 'updateTask');
    expect(JSON.stringify(foreign.errors)).toBe(JSON.stringify(missing.errors));
    expect(await storedTask(task.id)).toMatchObject({ title: 'untouchable', done: false });
  });

  test("answers a delete of another user's task with NOT_FOUND, as for a nonexistent id, and keeps it", async () => {
    const task = await createTask(tina, 'undeletable');
    const foreign = await app.client.request(DELETE, { id: task.id }, { token: umar.accessToken });
    const missing = await app.client.request(DELETE, { id: MISSING_ID }, { token: umar.accessToken });
    expectNotFound(foreign, 'deleteTask');
    expect(JSON.stringify(foreign.errors)).toBe(JSON.stringify(missing.errors));
    expect(await storedTask(task.id)).not.toBeNull();
  });

  test('answers an update or delete of an id that is not a UUID with NOT_FOUND', async () => {
    expectNotFound(
      await app.client.request(UPDATE, { id: 'not-a-uuid', done: true }, { token: tina.accessToken }),
      'updateTask',
    );
    expectNotFound(await app.client.request(DELETE, { id: 'not-a-uuid' }, { token: tina.accessToken }), 'deleteTask');
  });

  test('lets the owner delete a task, after which it is gone', async () => {
    const task = await createTask(tina, 'short-lived');
    const result = await app.client.request(DELETE, { id: task.id }, { token: tina.accessToken });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ deleteTask: true });
    expect(await storedTask(task.id)).toBeNull();
    const again = await app.client.request(TASK, { id: task.id }, { token: tina.accessToken });
    expect(again.data).toEqual({ task: null });
    const mine = await app.client.request(MY_TASKS, {}, { token: tina.accessToken });
    expect(mine.data.myTasks.map((item: TaskView) => item.id)).not.toContain(task.id);
    expectNotFound(await app.client.request(DELETE, { id: task.id }, { token: tina.accessToken }), 'deleteTask');
  });

  test("lets an ADMIN update and delete another user's task", async () => {
    const task = await createTask(umar, 'moderated');
    const updated = await app.client.request(UPDATE, { id: task.id, done: true }, { token: admin.accessToken });
    expect(updated.errors).toBeUndefined();
    expect(updated.data.updateTask).toMatchObject({ id: task.id, done: true, owner: { id: umar.user.id } });
    const deleted = await app.client.request(DELETE, { id: task.id }, { token: admin.accessToken });
    expect(deleted.data).toEqual({ deleteTask: true });
    expect(await storedTask(task.id)).toBeNull();
  });
});
