import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import { ENTRA_EMULATOR_DEFAULTS } from './emulator-defaults.js';
import { isB2cPolicyName } from './entra-documents.js';
import { mergeRemovingUndefined } from './jwt.js';

/** What to put in a minted access token. Every field is optional: the default is a valid v2 user token for the emulator's API. */
export interface MintOptions {
  /**
   * Token version, as chosen by the API's registration (`requestedAccessTokenVersion`). v2: `iss` is
   * the v2 issuer, `aud` the client id, `ver` `"2.0"`, caller in `azp`/`azpacr`. v1: `iss` is the
   * v1 issuer, `aud` `api://{clientId}`, `ver` `"1.0"`, caller in `appid`/`appidacr`, and the header
   * also carries `x5t`. Default `2`.
   */
  version?: 1 | 2;
  /**
   * Who the token is for. `user`: delegated token with `scp` (when `scopes` are given), `name`,
   * `preferred_username` (v2) or `upn`/`unique_name` (v1), and a `sub` different from `oid`.
   * `app`: app-only token (client credentials): no `scp`, `oid === sub`, `roles` carry the
   * application permissions. `guest`: a `user` token with `acct` 1 and an `idp` naming another
   * tenant. Default `user`.
   */
  kind?: 'user' | 'app' | 'guest';
  /** Tenant of the token (`tid`, and the tenant in the default `iss`). Default: the emulator's tenant. */
  tenantId?: string;
  /** The API's application (client) id, from which the default `aud` is built. Default: the emulator's `clientId`. */
  clientId?: string;
  /** Replaces `aud` entirely (an array produces a multi-audience token). */
  audience?: string | string[];
  /** The calling application: `azp` (v2) or `appid` (v1). Default: the emulator's `clientAppId`. */
  clientAppId?: string;
  /**
   * Delegated permissions, written as `scp`: ONE space-separated string, as Entra does. Omitted when
   * empty or undefined. Refused for `kind: 'app'` (use `claims: { scp }` to build that token on purpose).
   */
  scopes?: string[];
  /** App roles or application permissions, written as the `roles` array. Omitted when undefined. */
  roles?: string[];
  /** Object id of the user or service principal. Default: a fixed id per `kind` (see `ENTRA_EMULATOR_DEFAULTS`). */
  oid?: string;
  /** Subject. Default: for `app` the `oid`; otherwise a pairwise value derived from `oid` and `clientId`. */
  sub?: string;
  /** Adds the optional `idtyp` claim (`user` or `app`), which an API can request to tell app-only tokens apart. */
  includeIdtyp?: boolean;
  /** `iat`, in seconds since the epoch. Default: now. */
  issuedAt?: number;
  /** Lifetime: `exp = iat + expiresInSeconds`. Negative values make an already expired token. Default `3600`. */
  expiresInSeconds?: number;
  /** `nbf`, in seconds since the epoch. Default: `iat`. */
  notBefore?: number;
  /** Replaces `iss` entirely. */
  issuer?: string;
  /** Security group object ids, written as the `groups` claim. */
  groups?: string[];
  /**
   * Marks a groups overage, as Entra writes it for a user in more groups than a token holds: no
   * `groups`, but `_claim_names.groups` and a `_claim_sources` entry naming the retired Azure AD
   * Graph (which nobody should call). Cannot be combined with `groups`.
   */
  groupsOverage?: boolean;
  /** Directory role template ids, written as the `wids` claim (e.g. Global Administrator `62e90394-69f5-4237-9190-012177145e10`). */
  wids?: string[];
  /** Conditional Access authentication contexts the user satisfied (`c1`…`c99`), written as the `acrs` claim. */
  authContexts?: string[];
  /** Client capabilities, written as the `xms_cc` claim: `['cp1']` for a client that handles claims challenges. */
  clientCapabilities?: string[];
  /** Merged into the claims last; a value of `undefined` removes that claim. */
  claims?: Record<string, unknown>;
  /** Merged into the header `{ typ: 'JWT', alg: 'RS256', kid }`; a value of `undefined` removes that field. */
  header?: Record<string, unknown>;
  /** The `kid` written into the header. Default: the `kid` of the key that signs. */
  kid?: string;
  /** Signs with this key instead of the emulator's signing key (for example one from `createUnpublishedKey()`). */
  privateKey?: KeyObject;
  /** Signs with the app-specific key of this application (see `appSpecificKid`), as Entra does for apps with claims mapping. */
  appId?: string;
  /**
   * Mints an Azure AD B2C access token of this policy (user flow) instead of an Entra one, signed
   * with that policy's own key (see `b2cPolicyKid`). Its shape is B2C's: `iss` is the B2C issuer
   * (tenant GUID, trailing slash), `ver` `"1.0"`, `aud` the client id, caller in `azp`, the policy
   * in `tfp` (or `acr`, see `policyClaim`), `sub` equal to `oid`, and NO `tid`. `tenantId` names the
   * tenant in `iss`. Cannot be combined with `version`, `appId` or `kind: 'guest'`.
   */
  b2cPolicy?: string;
  /** B2C only: the claim that names the policy, `tfp` (the default) or `acr` (older B2C tenants). */
  policyClaim?: 'tfp' | 'acr';
}

/** The optional claims of workforce tokens that `MintOptions` names (groups, overage, `wids`, `acrs`, `xms_cc`). */
const OPTIONAL_CLAIMS = ['groups', 'groupsOverage', 'wids', 'authContexts', 'clientCapabilities'] as const;

function writeOptionalClaims(payload: Record<string, unknown>, options: MintOptions): void {
  if (options.groups !== undefined && options.groupsOverage) {
    throw new Error('MintOptions.groups cannot be combined with groupsOverage: an overage token has no groups claim');
  }
  if (options.groups !== undefined) payload.groups = [...options.groups];
  if (options.groupsOverage) {
    payload._claim_names = { groups: 'src1' };
    payload._claim_sources = { src1: { endpoint: `https://graph.windows.net/${String(payload.tid)}/users/${String(payload.oid)}/getMemberObjects` } };
  }
  if (options.wids !== undefined) payload.wids = [...options.wids];
  if (options.authContexts !== undefined) payload.acrs = [...options.authContexts];
  if (options.clientCapabilities !== undefined) payload.xms_cc = [...options.clientCapabilities];
}

/** What the claims builder needs from the emulator. */
export interface AccessTokenContext {
  tenantId: string;
  clientId: string;
  clientAppId: string;
  /** The natural `kid` of the key that will sign. */
  kid: string;
  v1Issuer(tenantId: string): string;
  v2Issuer(tenantId: string): string;
  b2cIssuer(tenantId: string): string;
}

const DEFAULT_LIFETIME_SECONDS = 3600;

function opaque(byteLength: number): string {
  return randomBytes(byteLength).toString('base64url');
}

// Entra's `sub` is a pairwise, opaque, 43-character value: a SHA-256 in base64url has that shape,
// and deriving it keeps the same user's `sub` stable across tokens for the same API.
function pairwiseSubject(oid: string, clientId: string): string {
  return createHash('sha256').update(`${oid}:${clientId}`).digest('base64url');
}

function userClaims(version: 1 | 2, guest: boolean): Record<string, unknown> {
  const name = guest ? 'Emulated Guest' : 'Emulated User';
  const username = guest ? 'emulated.guest@fabrikam.example' : 'emulated.user@contoso.example';
  if (version === 2) {
    return { name, preferred_username: username };
  }
  const v1: Record<string, unknown> = {
    acr: '1',
    amr: ['pwd'],
    family_name: guest ? 'Guest' : 'User',
    given_name: 'Emulated',
    ipaddr: '127.0.0.1',
    name,
    unique_name: username,
  };
  // Entra gives guests no `upn` (it belongs to their home tenant) but an `email` instead.
  if (guest) {
    v1.email = username;
  } else {
    v1.upn = username;
  }
  return v1;
}

/**
 * B2C's access token. B2C has neither v1 tokens nor guests nor app-specific keys, so options that
 * ask for them are refused rather than ignored: the test would get a token it did not ask for.
 */
function buildB2cAccessToken(
  options: MintOptions & { b2cPolicy: string },
  context: AccessTokenContext,
): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const policy = options.b2cPolicy;
  if (!isB2cPolicyName(policy)) {
    throw new Error(`MintOptions.b2cPolicy must be a policy name such as 'B2C_1_signupsignin', got ${JSON.stringify(policy)}`);
  }
  for (const conflicting of ['version', 'appId', ...OPTIONAL_CLAIMS] as const) {
    if (options[conflicting] !== undefined) {
      throw new Error(`MintOptions.${conflicting} cannot be combined with b2cPolicy: B2C access tokens are always ver "1.0", signed by the policy's key, and carry none of Entra's optional claims`);
    }
  }
  const kind = options.kind ?? 'user';
  if (kind !== 'user' && kind !== 'app') {
    throw new Error(`MintOptions.kind must be 'user' or 'app' for a B2C token, got ${String(kind)}`);
  }
  const policyClaim = options.policyClaim ?? 'tfp';
  if (policyClaim !== 'tfp' && policyClaim !== 'acr') {
    throw new Error(`MintOptions.policyClaim must be 'tfp' or 'acr', got ${String(policyClaim)}`);
  }
  const appOnly = kind === 'app';
  if (appOnly && options.scopes !== undefined && options.scopes.length > 0) {
    throw new Error("MintOptions.scopes: app-only tokens carry no 'scp'");
  }
  const iat = options.issuedAt ?? Math.floor(Date.now() / 1000);
  const oid = options.oid ?? (appOnly ? ENTRA_EMULATOR_DEFAULTS.appObjectId : ENTRA_EMULATOR_DEFAULTS.userObjectId);
  const payload: Record<string, unknown> = {
    iss: options.issuer ?? context.b2cIssuer(options.tenantId ?? context.tenantId),
    exp: iat + (options.expiresInSeconds ?? DEFAULT_LIFETIME_SECONDS),
    nbf: options.notBefore ?? iat,
    aud: options.audience ?? options.clientId ?? context.clientId,
    oid,
    // B2C's default subject is the object id, not a pairwise value.
    sub: options.sub ?? oid,
  };
  if (!appOnly) {
    payload.name = 'Emulated User';
    payload.emails = ['emulated.user@contoso.example'];
  }
  payload[policyClaim] = policy;
  if (options.scopes !== undefined && options.scopes.length > 0) {
    payload.scp = options.scopes.join(' ');
  }
  if (options.roles !== undefined) {
    payload.roles = [...options.roles];
  }
  if (options.includeIdtyp) {
    payload.idtyp = appOnly ? 'app' : 'user';
  }
  payload.azp = options.clientAppId ?? context.clientAppId;
  payload.ver = '1.0';
  payload.iat = iat;
  if (!appOnly) {
    payload.auth_time = iat;
  }
  return {
    header: mergeRemovingUndefined({ alg: 'RS256', kid: options.kid ?? context.kid, typ: 'JWT' }, options.header),
    payload: mergeRemovingUndefined(payload, options.claims),
  };
}

/** Builds the header and claims of an access token; signing is the caller's business. */
export function buildAccessToken(
  options: MintOptions,
  context: AccessTokenContext,
): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  if (options.b2cPolicy !== undefined) {
    return buildB2cAccessToken({ ...options, b2cPolicy: options.b2cPolicy }, context);
  }
  if (options.policyClaim !== undefined) {
    throw new Error('MintOptions.policyClaim needs b2cPolicy: only B2C tokens name a policy');
  }
  const version = options.version ?? 2;
  if (version !== 1 && version !== 2) {
    throw new Error(`MintOptions.version must be 1 or 2, got ${String(version)}`);
  }
  const kind = options.kind ?? 'user';
  if (kind !== 'user' && kind !== 'app' && kind !== 'guest') {
    throw new Error(`MintOptions.kind must be 'user', 'app' or 'guest', got ${String(kind)}`);
  }
  const appOnly = kind === 'app';
  // Silently dropping the scopes would hand the test a token it did not ask for.
  if (appOnly && options.scopes !== undefined && options.scopes.length > 0) {
    throw new Error(
      "MintOptions.scopes: app-only tokens carry no 'scp'; use claims: { scp } to build such a contradictory token on purpose",
    );
  }
  const tenantId = options.tenantId ?? context.tenantId;
  const clientId = options.clientId ?? context.clientId;
  const clientAppId = options.clientAppId ?? context.clientAppId;
  const iat = options.issuedAt ?? Math.floor(Date.now() / 1000);
  const oid = options.oid ?? (appOnly ? (options.sub ?? ENTRA_EMULATOR_DEFAULTS.appObjectId) : ENTRA_EMULATOR_DEFAULTS.userObjectId);
  const sub = options.sub ?? (appOnly ? oid : pairwiseSubject(oid, clientId));

  const payload: Record<string, unknown> = {
    aud: options.audience ?? (version === 2 ? clientId : `api://${clientId}`),
    iss: options.issuer ?? (version === 2 ? context.v2Issuer(tenantId) : context.v1Issuer(tenantId)),
    iat,
    nbf: options.notBefore ?? iat,
    exp: iat + (options.expiresInSeconds ?? DEFAULT_LIFETIME_SECONDS),
    aio: opaque(72),
  };
  if (kind === 'guest') {
    payload.acct = 1;
  }
  // `azpacr`/`appidacr`: 0 = public client (a SPA signing a user in), 1 = client secret (a daemon).
  if (version === 2) {
    payload.azp = clientAppId;
    payload.azpacr = appOnly ? '1' : '0';
  } else {
    payload.appid = clientAppId;
    payload.appidacr = appOnly ? '1' : '0';
  }
  if (!appOnly) {
    Object.assign(payload, userClaims(version, kind === 'guest'));
  }
  if (kind === 'guest') {
    payload.idp = context.v1Issuer(ENTRA_EMULATOR_DEFAULTS.guestHomeTenantId);
  } else if (appOnly && version === 1) {
    // v1 app-only tokens name their own tenant as `idp`.
    payload.idp = context.v1Issuer(tenantId);
  }
  if (options.includeIdtyp) {
    payload.idtyp = appOnly ? 'app' : 'user';
  }
  payload.oid = oid;
  payload.rh = `0.${opaque(54)}.`;
  if (options.roles !== undefined) {
    payload.roles = [...options.roles];
  }
  if (options.scopes !== undefined && options.scopes.length > 0) {
    payload.scp = options.scopes.join(' ');
  }
  payload.sub = sub;
  payload.tid = tenantId;
  payload.uti = opaque(16);
  payload.ver = version === 2 ? '2.0' : '1.0';
  writeOptionalClaims(payload, options);

  const kid = options.kid ?? context.kid;
  const header: Record<string, unknown> =
    version === 1 ? { typ: 'JWT', alg: 'RS256', x5t: kid, kid } : { typ: 'JWT', alg: 'RS256', kid };

  return {
    header: mergeRemovingUndefined(header, options.header),
    payload: mergeRemovingUndefined(payload, options.claims),
  };
}
