// SQL written with `:name` placeholders, compiled once into PostgreSQL's `$n` so that pg can still
// prepare it; the values then come from an object by name rather than from a list by position.

/** `:name`, but neither a `::type` cast nor the second colon of one. */
const PLACEHOLDER = /(?<!:):([A-Za-z][A-Za-z0-9]*)/g;

export interface NamedStatement<Params extends object> {
  /** The statement with `$1`, `$2`, ... in place of the names. */
  readonly text: string;
  /** The values in `$n` order. A name left undefined is a bug, and throws. */
  values(params: Params): unknown[];
}

export function namedSql<Params extends object>(text: string): NamedStatement<Params> {
  const names: string[] = [];
  const compiled = text.replace(PLACEHOLDER, (_placeholder, name: string) => {
    const known = names.indexOf(name);
    return `$${known === -1 ? names.push(name) : known + 1}`;
  });
  return {
    text: compiled,
    values(params) {
      return names.map((name) => {
        const value = (params as Record<string, unknown>)[name];
        if (value === undefined) throw new Error(`no value for the SQL parameter :${name}`);
        return value;
      });
    },
  };
}
