import { Migration } from '@mikro-orm/migrations';

/** mail_and_account_tokens: written by `npm run migration:create` from the entities. */
export class Migration20261203113134_mail_and_account_tokens extends Migration {
  override name = 'Migration20261203113134_mail_and_account_tokens';

  override up(): void {
    this.addSql(
      `create table "mail_outbox" ("id" uuid not null, "kind" varchar(40) not null, "recipient" varchar(254) not null, "params" jsonb null, "status" varchar(8) not null default 'PENDING', "attempts" int not null default 0, "next_attempt_at" timestamptz not null, "last_error" text null, "created_at" timestamptz not null, "sent_at" timestamptz null, primary key ("id"));`,
    );
    this.addSql(
      `create index "mail_outbox_finished_index" on "mail_outbox" ("created_at") where "status" <> 'PENDING';`,
    );
    this.addSql(
      `create index "mail_outbox_pending_index" on "mail_outbox" ("next_attempt_at") where "status" = 'PENDING';`,
    );

    this.addSql(
      `create table "registrations" ("id" uuid not null, "username" varchar(32) not null, "username_key" varchar(32) not null, "email" varchar(254) not null, "email_key" varchar(254) not null, "password_hash" text not null, "token_hash" varchar(64) not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(`alter table "registrations" add constraint "registrations_email_key_unique" unique ("email_key");`);
    this.addSql(`alter table "registrations" add constraint "registrations_token_hash_unique" unique ("token_hash");`);
    this.addSql(`create index "registrations_expires_at_index" on "registrations" ("expires_at");`);

    this.addSql(
      `create table "one_time_tokens" ("id" uuid not null, "user_id" uuid not null, "purpose" varchar(24) not null, "token_hash" varchar(64) not null, "email" varchar(254) not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(
      `alter table "one_time_tokens" add constraint "one_time_tokens_token_hash_unique" unique ("token_hash");`,
    );
    this.addSql(`create index "one_time_tokens_expires_at_index" on "one_time_tokens" ("expires_at");`);
    this.addSql(`create index "one_time_tokens_user_id_purpose_index" on "one_time_tokens" ("user_id", "purpose");`);

    this.addSql(`alter table "users" add "email_verified_at" timestamptz null;`);

    this.addSql(
      `alter table "one_time_tokens" add constraint "one_time_tokens_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`,
    );
  }

  override down(): void {
    this.addSql(`drop table if exists "mail_outbox" cascade;`);
    this.addSql(`drop table if exists "registrations" cascade;`);
    this.addSql(`drop table if exists "one_time_tokens" cascade;`);

    this.addSql(`alter table "users" drop column "email_verified_at";`);
  }
}
