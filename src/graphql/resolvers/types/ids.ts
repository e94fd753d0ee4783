const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** IDs are UUIDs; anything else names nothing and never reaches a query. */
export function isId(value: string): boolean {
  return UUID.test(value);
}
