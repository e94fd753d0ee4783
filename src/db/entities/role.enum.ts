/** The roles a user can hold. Stored by name, so renaming one needs a migration. */
export enum Role {
  USER = 'USER',
  ADMIN = 'ADMIN',
}
