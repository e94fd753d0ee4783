/** Where a request came from, as recorded on sessions and audit events. */
export interface RequestMeta {
  readonly ip: string | null;
  readonly userAgent: string | null;
}
