/** The signed-in caller, as the account and session operations need it. */
export interface ViewerRef {
  readonly userId: string;
  readonly sessionId: string;
}

/** Where a request came from, as recorded on sessions and audit events. */
export interface RequestMeta {
  readonly ip: string | null;
  readonly userAgent: string | null;
}
