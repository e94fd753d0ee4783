const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Every id Tessera issues is a UUID: anything else names nothing and never reaches a query. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
