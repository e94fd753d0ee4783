// A front-end's view of Tessera: JSON over HTTP POST, the token in the Authorization header.
export interface GraphQLErrorBody {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; reason?: string; field?: string; [key: string]: unknown };
}

export interface GraphQLResult<T = any> {
  status: number;
  data?: T | null;
  errors?: GraphQLErrorBody[];
  headers: Headers;
}

export interface RequestOptions {
  token?: string;
  headers?: Record<string, string>;
}

export class GraphQLClient {
  constructor(readonly url: string) {}

  async request<T = any>(
    query: string,
    variables?: Record<string, unknown>,
    options: RequestOptions = {},
  ): Promise<GraphQLResult<T>> {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    const response = await fetch(this.url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    const body = (await response.json()) as { data?: T; errors?: GraphQLErrorBody[] };
    return { status: response.status, data: body.data, errors: body.errors, headers: response.headers };
  }

  async signup(username: string, password = 'correct horse battery', email = `${username}@example.com`) {
    const result = await this.request(SIGNUP, { input: { username, email, password } });
    if (!result.data?.signup) throw new Error(`signup failed: ${JSON.stringify(result.errors)}`);
    return result.data.signup as AuthPayload;
  }

  async login(usernameOrEmail: string, password = 'correct horse battery', deviceToken?: string) {
    return this.request<{ login: AuthPayload }>(LOGIN, { input: { usernameOrEmail, password, deviceToken } });
  }
}

export interface AuthPayload {
  accessToken: string;
  refreshToken: string;
  tokenType: string;
  expiresIn: number;
  refreshExpiresIn: number;
  user: { id: string; username: string; email: string | null; roles: string[]; isActive: boolean; createdAt: string };
  deviceToken: string | null;
}

const PAYLOAD_FIELDS =
  'accessToken refreshToken tokenType expiresIn refreshExpiresIn user { id username email roles isActive createdAt } deviceToken';
export const SIGNUP = `mutation Signup($input: SignupInput!) { signup(input: $input) { ${PAYLOAD_FIELDS} } }`;
export const LOGIN = `mutation Login($input: LoginInput!) { login(input: $input) { ${PAYLOAD_FIELDS} } }`;

/** The one error of a result, asserting there is exactly one. */
export function onlyError(result: Pick<GraphQLResult, 'errors'>): GraphQLErrorBody {
  if (result.errors?.length !== 1) throw new Error(`expected exactly one error, got ${JSON.stringify(result.errors)}`);
  return result.errors[0];
}
