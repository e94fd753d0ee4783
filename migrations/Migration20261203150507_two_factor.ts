import { Migration } from '@mikro-orm/migrations';

/** Two-factor authentication: the TOTP secrets (encrypted), recovery codes (hashed), the flag on users, and the level (aal, amr) a session reached. */
export class Migration20261203150507_two_factor extends Migration {
  override name = 'Migration20261203150507_two_factor';

  override up(): void {
    this.addSql(
      `create table "totp_factors" ("user_id" uuid not null, "secret_ciphertext" text not null, "confirmed_at" timestamptz null, "last_used_step" bigint null, "created_at" timestamptz not null, primary key ("user_id"));`,
    );

    this.addSql(
      `create table "recovery_codes" ("id" uuid not null, "user_id" uuid not null, "code_hash" varchar(64) not null, "used_at" timestamptz null, "created_at" timestamptz not null, primary key ("id"));`,
    );
    this.addSql(`create index "recovery_codes_user_id_index" on "recovery_codes" ("user_id");`);

    this.addSql(`alter table "users" add "two_factor_enabled_at" timestamptz null;`);

    this.addSql(
      `alter table "sessions" add "aal" smallint not null default 1, add "amr" text[] not null default '{pwd}';`,
    );

    this.addSql(
      `alter table "totp_factors" add constraint "totp_factors_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "recovery_codes" add constraint "recovery_codes_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`,
    );
  }

  override down(): void {
    this.addSql(`drop table if exists "totp_factors" cascade;`);
    this.addSql(`drop table if exists "recovery_codes" cascade;`);

    this.addSql(`alter table "sessions" drop column "aal", drop column "amr";`);

    this.addSql(`alter table "users" drop column "two_factor_enabled_at";`);
  }
}
