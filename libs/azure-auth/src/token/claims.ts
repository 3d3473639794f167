/** Claims of an Entra ID access token, v1 and v2 (see Microsoft's access token claims reference). */
export interface AzureAccessTokenClaims {
  aud: string | string[];
  iss: string;
  iat?: number;
  nbf?: number;
  exp: number;
  ver?: '1.0' | '2.0' | string;
  tid?: string;
  oid?: string;
  sub?: string;
  /** Delegated scopes, space separated. */
  scp?: string;
  /** App permissions (app-only tokens) or the user's app roles (delegated tokens). */
  roles?: string[];
  /** v2: the client application. */
  azp?: string;
  azpacr?: string;
  /** v1: the client application. */
  appid?: string;
  appidacr?: string;
  idtyp?: 'app' | 'user' | string;
  name?: string;
  preferred_username?: string;
  upn?: string;
  unique_name?: string;
  acct?: number;
  idp?: string;
  groups?: string[];
  hasgroups?: boolean;
  wids?: string[];
  xms_cc?: string[];
  acrs?: string[];
  tfp?: string;
  acr?: string;
  [claim: string]: unknown;
}

/** The JOSE header of a token. */
export interface JwtHeader {
  alg?: unknown;
  kid?: unknown;
  typ?: unknown;
  [parameter: string]: unknown;
}

/**
 * The strings of a list claim whose shape no rule checks (`groups`, `wids`, `acrs`, `xms_cc`): its string members
 * when it is an array, else none (a string `"c1"` never matches by substring).
 */
export function listClaim(value: unknown): readonly string[] {
  return Array.isArray(value) ? value.filter((member): member is string => typeof member === 'string') : [];
}
