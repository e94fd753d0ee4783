#!/usr/bin/env bash
# README "Adding your own data", followed for a Note owned by a user, in a temporary copy of the
# repository: the entity and its registration, `npm run migration:create -- notes`, the resolver
# and its registration, `npm run schema:emit`, the typecheck, the Note test, `npm run migration:check`.
# With DATABASE_URL (an admin URL) it works on a fresh database there; else on the embedded PostgreSQL.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/tessera-walkthrough-XXXXXX")"
ADMIN_URL="${DATABASE_URL:-}"
DB_NAME="tessera_walkthrough_$(date +%s)_$$"
export PATH="$ROOT/node_modules/.bin:$PATH" # the project's Node, as npm scripts get it

psql_admin() { node -e 'const pg = require("pg"); const c = new pg.Client({ connectionString: process.argv[1] });
c.connect().then(() => c.query(process.argv[2])).finally(() => c.end());' "$ADMIN_URL" "$1"; }
cleanup() {
  if [ -n "$ADMIN_URL" ]; then (cd "$ROOT" && psql_admin "drop database if exists \"$DB_NAME\" with (force)") || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
step() { printf '\n--- %s\n' "$*"; }

step "copy the repository (tracked and new files) to $WORK; node_modules linked entry by entry"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] && printf '%s\0' "$f"; done | tar --null -T - -cf -) | tar -xf - -C "$WORK"
mkdir "$WORK/node_modules"
for entry in "$ROOT"/node_modules/* "$ROOT"/node_modules/.bin; do ln -s "$entry" "$WORK/node_modules/"; done
cd "$WORK"
export TESSERA_DATA_DIR="$WORK/.data"
# The embedded PostgreSQL runs as the `postgres` user when CI is root: it must pass through here.
chmod 711 "$WORK"
if [ -n "$ADMIN_URL" ]; then
  (cd "$ROOT" && psql_admin "create database \"$DB_NAME\"")
  export DATABASE_URL="$(node -e 'const u = new URL(process.argv[1]); u.pathname = "/" + process.argv[2]; console.log(u.href)' "$ADMIN_URL" "$DB_NAME")"
fi

step "1. the entity: src/db/entities/note.entity.ts"
cat > src/db/entities/note.entity.ts <<'EOF'
import { OptionalProps, types } from '@mikro-orm/core';
import { Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { randomUUID } from 'node:crypto';
import { Field, ID, ObjectType } from 'type-graphql';
import { User } from './user.entity.js';

@ObjectType('Note', { description: 'A note: visible to its owner and to ADMINs only.' })
@Entity({ tableName: 'notes' })
@Index({ name: 'notes_owner_id_created_at_index', properties: ['owner', 'createdAt'] })
export class Note {
  [OptionalProps]?: 'id' | 'createdAt';

  @Field(() => ID)
  @PrimaryKey({ type: types.uuid })
  id: string = randomUUID();

  @Field()
  @Property({ type: types.string, length: 1000 })
  text!: string;

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  owner!: User;

  @Field()
  @Property({ type: types.datetime })
  createdAt: Date = new Date();
}
EOF

step "2. register it: ENTITIES in src/db/entities/index.ts"
perl -0pi -e "s|(import \{ Task \} from './task.entity.js';\n)|\$1import { Note } from './note.entity.js';\n|; s|export \{ (.*?)Task, |export { \$1Note, Task, |; s|(export const ENTITIES = \[[^\]]*?\bTask,)|\$1 Note,|" src/db/entities/index.ts
grep -q "Note, " src/db/entities/index.ts

step "3. npm run migration:create -- notes"
npm run --silent migration:create -- notes
grep -l 'create table "notes"' migrations/Migration*_notes.ts
grep -q "_notes }" migrations/index.ts

step "4. the resolver: src/graphql/resolvers/note.resolver.ts, registered in RESOLVERS"
cat > src/graphql/resolvers/note.resolver.ts <<'EOF'
import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { Note, Role } from '../../db/entities/index.js';
import type { Context } from '../context.js';
import { findOwned, requireOwned } from './ownership.js';
import { viewerOf } from './viewer.js';

const OLDEST_FIRST = { createdAt: 'asc', id: 'asc' } as const;

@Resolver(() => Note)
export class NoteResolver {
  @Authorized()
  @Query(() => [Note], { description: "The viewer's own notes, oldest first." })
  myNotes(@Ctx() context: Context): Promise<Note[]> {
    return context.em.find(Note, { owner: viewerOf(context).user.id }, { orderBy: OLDEST_FIRST });
  }

  @Authorized(Role.ADMIN)
  @Query(() => [Note], { description: "Every user's notes, oldest first: ADMIN only." })
  allNotes(@Ctx() context: Context): Promise<Note[]> {
    return context.em.find(Note, {}, { orderBy: OLDEST_FIRST });
  }

  @Authorized()
  @Query(() => Note, { nullable: true, description: 'A note of the viewer (any note for an ADMIN); null otherwise.' })
  note(@Arg('id', () => ID) id: string, @Ctx() context: Context): Promise<Note | null> {
    return findOwned(context, Note, id);
  }

  @Authorized()
  @Mutation(() => Note)
  async createNote(@Arg('text') text: string, @Ctx() context: Context): Promise<Note> {
    const note = context.em.create(Note, { text, owner: viewerOf(context).user.id });
    await context.em.persist(note).flush();
    return note;
  }

  @Authorized()
  @Mutation(() => Boolean, { description: 'Owner or ADMIN; anyone else gets NOT_FOUND.' })
  async deleteNote(@Arg('id', () => ID) id: string, @Ctx() context: Context): Promise<boolean> {
    const note = await requireOwned(context, Note, id);
    await context.em.remove(note).flush();
    return true;
  }
}
EOF
perl -0pi -e "s|(import \{ TaskResolver \} from './resolvers/task.resolver.js';\n)|\$1import { NoteResolver } from './resolvers/note.resolver.js';\n|; s|(\n  TaskResolver,\n)|\$1  NoteResolver,\n|" src/graphql/schema.ts
grep -q "^  NoteResolver," src/graphql/schema.ts

step "5. npm run schema:emit"
npm run --silent schema:emit
grep -q "myNotes: \[Note!\]!" schema.graphql

step "6. the test: test/integration/notes.test.ts"
cat > test/integration/notes.test.ts <<'EOF'
import { createAdmin } from '../helpers/fixtures.js';
import { onlyError, type AuthPayload } from '../helpers/graphql-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const CREATE = 'mutation Create($text: String!) { createNote(text: $text) { id text } }';
const MY_NOTES = '{ myNotes { id text } }';
const ALL_NOTES = '{ allNotes { id } }';
const NOTE = 'query Note($id: ID!) { note(id: $id) { id text } }';
const DELETE = 'mutation Delete($id: ID!) { deleteNote(id: $id) }';
const MISSING_ID = '3b0e7c1d-0000-4000-8000-000000000000';

let app: TestServer;
let nora: AuthPayload;
let omar: AuthPayload;

beforeAll(async () => {
  app = await startTestServer();
  nora = await app.client.signup('nora');
  omar = await app.client.signup('omar');
});
afterAll(() => app.stop());

async function createNote(owner: AuthPayload, text: string): Promise<string> {
  const result = await app.client.request(CREATE, { text }, { token: owner.accessToken });
  if (!result.data?.createNote) throw new Error(`createNote failed: ${JSON.stringify(result.errors)}`);
  return result.data.createNote.id;
}

test('shows the owner their own notes, and only theirs', async () => {
  const id = await createNote(nora, 'mine');
  await createNote(omar, 'not hers');
  const result = await app.client.request(MY_NOTES, {}, { token: nora.accessToken });
  expect(result.data).toEqual({ myNotes: [{ id, text: 'mine' }] });
});

test("answers another user's note exactly as a note that does not exist: null, and NOT_FOUND to delete", async () => {
  const id = await createNote(nora, 'private');
  expect((await app.client.request(NOTE, { id }, { token: omar.accessToken })).data).toEqual({ note: null });
  const foreign = await app.client.request(DELETE, { id }, { token: omar.accessToken });
  const missing = await app.client.request(DELETE, { id: MISSING_ID }, { token: omar.accessToken });
  expect(onlyError(foreign).extensions?.code).toBe('NOT_FOUND');
  expect(JSON.stringify(foreign.errors)).toBe(JSON.stringify(missing.errors));
  expect((await app.client.request(NOTE, { id }, { token: nora.accessToken })).data).toEqual({
    note: { id, text: 'private' },
  });
});

test("shows an ADMIN every user's notes, and refuses allNotes to a USER with FORBIDDEN", async () => {
  const admin = await createAdmin(app);
  const ids = [await createNote(nora, 'one'), await createNote(omar, 'two')];
  const all = await app.client.request(ALL_NOTES, {}, { token: admin.accessToken });
  expect(all.data.allNotes.map((note: { id: string }) => note.id)).toEqual(expect.arrayContaining(ids));
  const refused = await app.client.request(ALL_NOTES, {}, { token: nora.accessToken });
  expect(onlyError(refused).extensions?.code).toBe('FORBIDDEN');
});

test('refuses a caller without a token as UNAUTHENTICATED', async () => {
  const result = await app.client.request(MY_NOTES);
  expect(onlyError(result).extensions?.code).toBe('UNAUTHENTICATED');
});
EOF

step "typecheck"
npm run --silent typecheck

step "npm test -- test/integration/notes.test.ts"
DATABASE_URL="$ADMIN_URL" npm test -- test/integration/notes.test.ts

step "npm run migration:check"
npm run --silent migration:check

step "walkthrough done: Note added, migrated, emitted and tested"
