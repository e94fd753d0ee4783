/** A request refused before it reaches Apollo: sent as a coded GraphQL error with this status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
