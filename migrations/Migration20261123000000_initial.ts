import { Migration } from '@mikro-orm/migrations';

/** Users, sessions (refresh-token families), tasks and the audit trail. */
export class Migration20261123000000_initial extends Migration {
  override name = 'Migration20261123000000_initial';

  override up(): void {
    this.addSql(
      `create table "users" ("id" uuid not null, "username" varchar(32) not null, "username_key" varchar(32) not null, "email" varchar(254) not null, "email_key" varchar(254) not null, "password_hash" text not null, "roles" text[] not null, "is_active" boolean not null default true, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(`alter table "users" add constraint "users_username_key_unique" unique ("username_key");`);
    this.addSql(`alter table "users" add constraint "users_email_key_unique" unique ("email_key");`);

    this.addSql(
      `create table "sessions" ("id" uuid not null, "user_id" uuid not null, "refresh_jti" uuid not null, "previous_refresh_jti" uuid null, "rotated_at" timestamptz null, "created_at" timestamptz not null, "last_used_at" timestamptz not null, "expires_at" timestamptz not null, "revoked_at" timestamptz null, "revoked_reason" varchar(40) null, "user_agent" varchar(512) null, "ip" varchar(64) null, primary key ("id"));`,
    );
    this.addSql(`create index "sessions_expires_at_index" on "sessions" ("expires_at");`);
    this.addSql(`create index "sessions_user_id_index" on "sessions" ("user_id");`);
    this.addSql(
      `alter table "sessions" add constraint "sessions_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`,
    );

    this.addSql(
      `create table "tasks" ("id" uuid not null, "title" varchar(200) not null, "done" boolean not null default false, "owner_id" uuid not null, "created_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(`create index "tasks_owner_id_created_at_index" on "tasks" ("owner_id", "created_at");`);
    this.addSql(
      `alter table "tasks" add constraint "tasks_owner_id_foreign" foreign key ("owner_id") references "users" ("id") on delete cascade;`,
    );

    this.addSql(
      `create table "auth_events" ("id" bigserial primary key, "type" varchar(40) not null, "user_id" uuid null, "actor_id" uuid null, "session_id" uuid null, "ip" varchar(64) null, "created_at" timestamptz not null);`,
    );
    this.addSql(`create index "auth_events_created_at_index" on "auth_events" ("created_at");`);
    this.addSql(`create index "auth_events_user_id_id_index" on "auth_events" ("user_id", "id");`);
  }

  override down(): void {
    this.addSql(`drop table if exists "auth_events" cascade;`);
    this.addSql(`drop table if exists "tasks" cascade;`);
    this.addSql(`drop table if exists "sessions" cascade;`);
    this.addSql(`drop table if exists "users" cascade;`);
  }
}
