import { isAppOnly, isGuest } from '../token/azure-principal.js';
import type { AzureAccessTokenClaims } from '../token/claims.js';
import { decodeJwt } from '../token/decode-jwt.js';
import { isGraphToken } from '../token/token-rules.js';

/** One of the lifetime claims, as a date and relative to now. */
export interface TokenTime {
  readonly claim: 'iat' | 'nbf' | 'exp';
  /** Seconds since the epoch, as in the token. */
  readonly epochSeconds: number;
  readonly iso: string;
  /** `"3 min ago"`, `"in 59 min"`, `"expired 3 min ago"`. */
  readonly relative: string;
}

/** How long the token lives, and how much of that is left. */
export interface TokenLifetime {
  /** `exp` minus `nbf` (or `iat`), when both are numbers. */
  readonly totalSeconds?: number;
  /** Seconds until `exp`; negative once expired. */
  readonly remainingSeconds?: number;
  readonly expired: boolean;
  /** `"57 min left of 60 min"`, `"expired 3 min ago"`. */
  readonly description: string;
}

/** What can be told about a token without any key: who, for whom, what for. */
export interface TokenSummary {
  /** `ver`: `"1.0"` or `"2.0"` for Entra access tokens. */
  readonly version?: string;
  /** `app-only` (client credentials) or `delegated` (a signed-in user). */
  readonly kind: 'app-only' | 'delegated';
  /** A delegated token of a guest user (`acct` 1, or `idp` not the issuer). */
  readonly guest: boolean;
  readonly tenantId?: string;
  /** The calling client application: `azp` (v2) or `appid` (v1). */
  readonly clientApp?: string;
  /** True when the token was issued for Microsoft Graph: no other API can verify it. */
  readonly forMicrosoftGraph: boolean;
}

/** A decoded, unverified token: everything the doctor shows except the signature, which it never keeps. */
export interface TokenInspection {
  readonly header: Readonly<Record<string, unknown>>;
  readonly claims: Readonly<Record<string, unknown>>;
  readonly times: readonly TokenTime[];
  readonly lifetime: TokenLifetime;
  /** `scp` split on spaces. */
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
  readonly summary: TokenSummary;
}

// What people paste: the token alone, or copied with its scheme or the whole header line.
const PASTED_PREFIX = /^(?:authorization\s*:\s*)?bearer\s+/i;

/**
 * The token out of what the user gave: surrounding whitespace and quotes dropped, and a pasted
 * `Bearer ` or `Authorization: Bearer ` prefix removed.
 */
export function normalizeTokenInput(input: string): string {
  let token = input.trim();
  if (token.length >= 2 && (token[0] === '"' || token[0] === "'") && token.endsWith(token[0])) {
    token = token.slice(1, -1).trim();
  }
  return token.replace(PASTED_PREFIX, '').trim();
}

/** `45 s`, `59 min`, `2 h 5 min`, `3 d 4 h`: the two largest units, rounded down. */
export function formatDuration(totalSeconds: number): string {
  const seconds = Math.floor(Math.abs(totalSeconds));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`;
}

function relativeTo(claim: TokenTime['claim'], deltaSeconds: number): string {
  if (deltaSeconds === 0) return 'now';
  const distance = formatDuration(deltaSeconds);
  if (claim === 'exp') return deltaSeconds > 0 ? `in ${distance}` : `expired ${distance} ago`;
  if (claim === 'nbf' && deltaSeconds > 0) return `in ${distance} (not valid yet)`;
  return deltaSeconds > 0 ? `in ${distance}` : `${distance} ago`;
}

function numericDate(value: unknown): number | undefined {
  // Past year 275760 `Date` gives up; such a claim is shown raw instead.
  return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= 8.64e12 ? value : undefined;
}

function describeLifetime(claims: Record<string, unknown>, nowSeconds: number): TokenLifetime {
  const exp = numericDate(claims.exp);
  const start = numericDate(claims.nbf) ?? numericDate(claims.iat);
  if (exp === undefined) return { expired: false, description: 'no numeric exp claim: the token never expires, which Entra never issues' };
  const totalSeconds = start === undefined ? undefined : exp - start;
  const remainingSeconds = Math.floor(exp - nowSeconds);
  const expired = remainingSeconds <= 0;
  const of = totalSeconds === undefined ? '' : ` of ${formatDuration(totalSeconds)}`;
  const description = expired ? `expired ${formatDuration(remainingSeconds)} ago` : `${formatDuration(remainingSeconds)} left${of}`;
  return { totalSeconds, remainingSeconds, expired, description };
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === 'string') : [];
}

/**
 * Decodes a token without verifying it, for people to read. Throws the library's
 * `malformed_token` error for anything that is not a compact JWS with JSON header and claims.
 * The signature is dropped here so that no later step can print it.
 */
export function inspectToken(token: string, nowMs: number = Date.now()): TokenInspection {
  const { header, payload } = decodeJwt(token);
  const claims = payload as Record<string, unknown>;
  const nowSeconds = Math.floor(nowMs / 1000);
  const times: TokenTime[] = [];
  for (const claim of ['iat', 'nbf', 'exp'] as const) {
    const epochSeconds = numericDate(claims[claim]);
    if (epochSeconds === undefined) continue;
    times.push({
      claim,
      epochSeconds,
      iso: new Date(epochSeconds * 1000).toISOString(),
      relative: relativeTo(claim, Math.floor(epochSeconds - nowSeconds)),
    });
  }
  const scp = typeof claims.scp === 'string' ? claims.scp : '';
  const typed = payload as AzureAccessTokenClaims;
  const appOnly = isAppOnly(typed);
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return {
    header,
    claims,
    times,
    lifetime: describeLifetime(claims, nowSeconds),
    scopes: scp.split(' ').filter(Boolean),
    roles: stringList(claims.roles),
    summary: {
      version: text(claims.ver),
      kind: appOnly ? 'app-only' : 'delegated',
      guest: !appOnly && isGuest(typed),
      tenantId: text(claims.tid),
      clientApp: text(claims.azp) ?? text(claims.appid),
      forMicrosoftGraph: isGraphToken(header, typed),
    },
  };
}
