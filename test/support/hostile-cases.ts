import { createPublicKey, constants, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { AzureAuthModuleOptions, AzureAuthReason } from 'nestjs-azure-auth';
import { base64UrlEncode, decodeJwtUnverified, type EntraEmulator, type MintOptions, type UnpublishedSigningKey } from 'nestjs-azure-auth/testing';
import { hs256WithPublicKey } from './jwt-craft.js';

/** The probe apps the table runs against: the defaults, and one with a small size limit and multi-audience tokens allowed. */
export const HOSTILE_APP_OPTIONS = {
  default: {},
  limits: { maxTokenBytes: 4096, allowMultipleAudiences: true },
} satisfies Record<string, Partial<AzureAuthModuleOptions>>;

export type HostileAppName = keyof typeof HOSTILE_APP_OPTIONS;

/** What every case builder may use. */
export interface HostileContext {
  readonly entra: EntraEmulator;
  /** Base URL of a loopback server that counts every request; nothing may ever reach it. */
  readonly attackerUrl: string;
  /** A key pair of the attacker: never published by the authority. */
  readonly attackerKey: UnpublishedSigningKey;
  /** The authority's published signing key, as anyone can download it from the JWKS. */
  readonly publishedKey: KeyObject;
}

/** A request that does not carry its token in the usual header. */
export interface HostileRequest {
  readonly method?: 'GET' | 'POST';
  /** Default `/api/me`. */
  readonly path?: string;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Appended to the path, e.g. `?access_token=…`. */
  readonly query?: string;
  /** Sent as JSON. */
  readonly body?: unknown;
  /** Token material that the answer must not echo. */
  readonly secret?: string;
}

/** One row of the table: how to build the hostile request and what the API must answer. */
export interface HostileCase {
  readonly name: string;
  readonly app?: HostileAppName;
  readonly build: (context: HostileContext) => string | HostileRequest;
  readonly status: 200 | 401;
  /** The reason of the refusal; a list when several are legitimate. */
  readonly reason?: AzureAuthReason | readonly AzureAuthReason[];
}

/** A loopback HTTP server that answers `{}` and counts the requests it got. */
export async function startCountingServer(): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server = createServer((_request, response) => {
    hits++;
    response.setHeader('content-type', 'application/json');
    response.end('{"keys":[]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    hits: () => hits,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Downloads the authority's current signing key the way an attacker would: from its public JWKS. */
export async function createHostileContext(entra: EntraEmulator, attackerUrl: string): Promise<HostileContext> {
  const response = await fetch(`${entra.authorityHost}/${entra.tenantId}/discovery/v2.0/keys`);
  const { keys } = (await response.json()) as { keys: Array<{ kid: string; n: string; e: string }> };
  const jwk = keys.find((key) => key.kid === entra.signingKid);
  if (!jwk) throw new Error('the emulator does not publish its signing key');
  const publishedKey = createPublicKey({ key: { kty: 'RSA', n: jwk.n, e: jwk.e }, format: 'jwk' });
  return { entra, attackerUrl, attackerKey: entra.createUnpublishedKey(), publishedKey };
}

const encode = (segment: object | string): string => base64UrlEncode(typeof segment === 'string' ? segment : JSON.stringify(segment));

/** Header and claims of a valid token that may call /api/me. */
function validParts(entra: EntraEmulator, options: MintOptions = {}) {
  const { header, payload } = decodeJwtUnverified(entra.mintAccessToken({ scopes: ['Todolist.Read'], ...options }));
  return { header, payload };
}

/** A valid token with some claims replaced (`undefined` removes one), signed by the authority's key. */
function withClaims(entra: EntraEmulator, claims: Record<string, unknown>, options: MintOptions = {}): string {
  return entra.mintAccessToken({ scopes: ['Todolist.Read'], ...options, claims });
}

/** A valid token with some header fields replaced (`undefined` removes one), signed by the authority's key. */
function withHeader(entra: EntraEmulator, header: Record<string, unknown>): string {
  return entra.mintAccessToken({ scopes: ['Todolist.Read'], header });
}

/**
 * Signs the claims of a valid token with RS256 by the authority's key, the claims JSON being edited
 * as text first (for what `JSON.stringify` cannot write: duplicate names, `1e400`).
 */
function withRawPayload(entra: EntraEmulator, edit: (json: string) => string): string {
  const { header, payload } = validParts(entra);
  return entra.sign(header, edit(JSON.stringify(payload)));
}

/** `{"name":value,` placed first in a JSON object's text. */
function prepend(json: string, member: string): string {
  return `{${member},${json.slice(1)}`;
}

/** JSON text of an object without some of its members. */
function without(object: Record<string, unknown>, ...names: string[]): string {
  const copy = { ...object };
  for (const name of names) delete copy[name];
  return JSON.stringify(copy);
}

/** Really signs with another algorithm than RS256 (the key matching that algorithm). */
function signAs(alg: 'RS512' | 'PS256' | 'ES256', header: object, payload: object, privateKey: KeyObject): string {
  const input = `${encode({ ...header, alg })}.${encode(payload)}`;
  const data = Buffer.from(input);
  const signature =
    alg === 'RS512'
      ? sign('sha512', data, privateKey)
      : alg === 'PS256'
        ? sign('sha256', data, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
        : sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

/** The token's segments with one replaced. */
function replaceSegment(token: string, index: number, value: string): string {
  const segments = token.split('.');
  segments[index] = value;
  return segments.join('.');
}

const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * The same signature bytes written differently: a 256-byte signature leaves 4 unused bits in its
 * last base64url character, and a lenient decoder ignores them.
 */
function nonCanonicalSignature(token: string): string {
  const signature = token.split('.')[2];
  const last = BASE64URL_ALPHABET.indexOf(signature.at(-1) ?? 'A');
  return replaceSegment(token, 2, signature.slice(0, -1) + BASE64URL_ALPHABET[last | 1]);
}

/** A token of about `bytes` characters: valid but for its size. */
function tokenOfSize(entra: EntraEmulator, bytes: number): string {
  const base = withClaims(entra, {}).length;
  return withClaims(entra, { pad: 'x'.repeat(Math.floor(((bytes - base - 10) * 3) / 4)) });
}

const EVIL_AUDIENCE = 'api://evil-app';

/** Hostile tokens and requests, one per item of the attack catalogue, with the refusal each must get. */
export const HOSTILE_CASES: readonly HostileCase[] = [
  // Controls: the same apps accept what they should, so a refusal below is about the case.
  { name: 'control: a valid v2 token', build: ({ entra }) => withClaims(entra, {}), status: 200 },
  { name: 'control: a valid v1 token', build: ({ entra }) => withClaims(entra, {}, { version: 1 }), status: 200 },
  { name: 'control: a valid token of about 4000 bytes, under the limit', app: 'limits', build: ({ entra }) => tokenOfSize(entra, 4000), status: 200 },

  // Algorithms
  {
    name: 'alg none with an empty signature',
    build: ({ entra }) => {
      const { header, payload } = validParts(entra);
      return `${encode({ ...header, alg: 'none' })}.${encode(payload)}.`;
    },
    status: 401,
    reason: 'malformed_token',
  },
  {
    name: 'alg none keeping the real signature',
    build: ({ entra }) => {
      const token = withClaims(entra, {});
      return replaceSegment(token, 0, encode({ ...decodeJwtUnverified(token).header, alg: 'none' }));
    },
    status: 401,
    reason: 'unsupported_algorithm',
  },
  { name: 'alg "None" signed with RS256 by the real key', build: ({ entra }) => withHeader(entra, { alg: 'None' }), status: 401, reason: 'unsupported_algorithm' },
  { name: 'alg "rs256" (wrong case) signed with RS256 by the real key', build: ({ entra }) => withHeader(entra, { alg: 'rs256' }), status: 401, reason: 'unsupported_algorithm' },
  { name: 'alg missing, signed with RS256 by the real key', build: ({ entra }) => withHeader(entra, { alg: undefined }), status: 401, reason: 'unsupported_algorithm' },
  { name: 'alg as an array ["RS256"]', build: ({ entra }) => withHeader(entra, { alg: ['RS256'] }), status: 401, reason: 'unsupported_algorithm' },
  {
    name: 'HS256 with the published RSA public key (PEM) as the HMAC secret',
    build: ({ entra, publishedKey }) => {
      const { header, payload } = validParts(entra);
      return hs256WithPublicKey(header, payload, publishedKey);
    },
    status: 401,
    reason: 'unsupported_algorithm',
  },
  {
    name: 'RS512 really signed, with the authority kid',
    build: ({ entra, attackerKey }) => {
      const { header, payload } = validParts(entra);
      return signAs('RS512', header, payload, attackerKey.privateKey);
    },
    status: 401,
    reason: 'unsupported_algorithm',
  },
  { name: 'alg RS512 in the header over a real RS256 signature of the authority', build: ({ entra }) => withHeader(entra, { alg: 'RS512' }), status: 401, reason: 'unsupported_algorithm' },
  {
    name: 'PS256 really signed, with the authority kid',
    build: ({ entra, attackerKey }) => {
      const { header, payload } = validParts(entra);
      return signAs('PS256', header, payload, attackerKey.privateKey);
    },
    status: 401,
    reason: 'unsupported_algorithm',
  },
  {
    name: 'ES256 really signed with an EC P-256 key, with the authority kid',
    build: ({ entra }) => {
      const { header, payload } = validParts(entra);
      return signAs('ES256', header, payload, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    },
    status: 401,
    reason: 'unsupported_algorithm',
  },

  // Key location chosen by the token: never followed.
  ...(['jku', 'x5u'] as const).map(
    (parameter): HostileCase => ({
      name: `${parameter} pointing at the attacker, signed by the attacker`,
      build: ({ entra, attackerKey, attackerUrl }) =>
        entra.mintAccessToken({ scopes: ['Todolist.Read'], privateKey: attackerKey.privateKey, header: { [parameter]: `${attackerUrl}/${parameter}` } }),
      status: 401,
      reason: 'signing_key_not_found',
    }),
  ),
  {
    name: 'jwk: the attacker public key embedded, signed by the attacker',
    build: ({ entra, attackerKey }) =>
      entra.mintAccessToken({
        scopes: ['Todolist.Read'],
        privateKey: attackerKey.privateKey,
        header: { jwk: { ...attackerKey.publicKey.export({ format: 'jwk' }), kid: attackerKey.kid, use: 'sig', alg: 'RS256' } },
      }),
    status: 401,
    reason: 'signing_key_not_found',
  },
  {
    name: 'x5c: the attacker public key as a certificate chain, signed by the attacker',
    build: ({ entra, attackerKey }) =>
      entra.mintAccessToken({
        scopes: ['Todolist.Read'],
        privateKey: attackerKey.privateKey,
        header: { x5c: [attackerKey.publicKey.export({ format: 'der', type: 'spki' }).toString('base64')] },
      }),
    status: 401,
    reason: 'signing_key_not_found',
  },
  {
    name: 'jku, x5u, jwk and x5c with the authority kid, signed by the attacker',
    build: ({ entra, attackerKey, attackerUrl }) =>
      entra.mintAccessToken({
        scopes: ['Todolist.Read'],
        privateKey: attackerKey.privateKey,
        kid: entra.signingKid,
        header: {
          jku: `${attackerUrl}/keys`,
          x5u: `${attackerUrl}/cert`,
          jwk: { ...attackerKey.publicKey.export({ format: 'jwk' }), kid: entra.signingKid },
          x5c: [attackerKey.publicKey.export({ format: 'der', type: 'spki' }).toString('base64')],
        },
      }),
    status: 401,
    reason: 'invalid_signature',
  },

  // Odd kid values, signed by the authority's real key.
  ...(
    [
      ['path traversal "../../etc/passwd"', '../../etc/passwd', 'signing_key_not_found'],
      ['SQL "\' OR 1=1 --"', "' OR 1=1 --", 'signing_key_not_found'],
      ['10 000 characters', 'k'.repeat(10_000), 'signing_key_not_found'],
      ['"__proto__"', '__proto__', 'signing_key_not_found'],
      ['"constructor"', 'constructor', 'signing_key_not_found'],
      ['with CR LF and NUL', 'kid\r\nX-Injected: 1\u0000', 'signing_key_not_found'],
      ['a number', 12345, 'malformed_token'],
      ['an object', { $ne: null }, 'malformed_token'],
      ['an array', ['kid'], 'malformed_token'],
      ['null', null, 'malformed_token'],
      ['empty', '', 'malformed_token'],
      ['missing', undefined, 'malformed_token'],
    ] as const
  ).map(
    ([label, kid, reason]): HostileCase => ({
      name: `kid ${label}`,
      build: ({ entra }) => {
        const { header, payload } = validParts(entra);
        return entra.sign({ ...header, kid }, payload);
      },
      status: 401,
      reason,
    }),
  ),

  // crit: no extension is understood, so any critical one refuses the token.
  { name: 'crit ["exp"] with an exp header parameter', build: ({ entra }) => withHeader(entra, { crit: ['exp'], exp: 1 }), status: 401, reason: 'malformed_token' },
  { name: 'crit ["b64"] with b64 false (RFC 7797)', build: ({ entra }) => withHeader(entra, { crit: ['b64'], b64: false }), status: 401, reason: 'malformed_token' },

  // Shapes
  { name: 'one segment', build: ({ entra }) => withClaims(entra, {}).split('.')[0], status: 401, reason: 'malformed_token' },
  { name: 'two segments (signature dropped)', build: ({ entra }) => withClaims(entra, {}).split('.').slice(0, 2).join('.'), status: 401, reason: 'malformed_token' },
  { name: 'four segments (a real token and one more)', build: ({ entra }) => `${withClaims(entra, {})}.${encode('extra')}`, status: 401, reason: 'malformed_token' },
  {
    name: 'a JWE (five segments)',
    build: ({ entra }) => [encode({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: entra.signingKid }), encode('key'), encode('iv'), encode('ciphertext'), encode('tag')].join('.'),
    status: 401,
    reason: 'malformed_token',
  },
  { name: 'empty header segment', build: ({ entra }) => replaceSegment(withClaims(entra, {}), 0, ''), status: 401, reason: 'malformed_token' },
  { name: 'empty payload segment', build: ({ entra }) => replaceSegment(withClaims(entra, {}), 1, ''), status: 401, reason: 'malformed_token' },
  { name: 'empty signature segment', build: ({ entra }) => replaceSegment(withClaims(entra, {}), 2, ''), status: 401, reason: 'malformed_token' },
  { name: 'only dots', build: () => '..', status: 401, reason: 'malformed_token' },
  {
    name: 'standard base64 "+" and "/" in the signature',
    build: ({ entra }) => {
      const token = withClaims(entra, {});
      return replaceSegment(token, 2, `+/${token.split('.')[2].slice(2)}`);
    },
    status: 401,
    reason: 'malformed_token',
  },
  {
    name: '"=" padding on the payload',
    build: ({ entra }) => {
      const token = withClaims(entra, {});
      return replaceSegment(token, 1, `${token.split('.')[1]}==`);
    },
    status: 401,
    reason: 'malformed_token',
  },
  {
    name: 'a space inside the payload',
    build: ({ entra }) => {
      const token = withClaims(entra, {});
      const payload = token.split('.')[1];
      return replaceSegment(token, 1, `${payload.slice(0, 10)} ${payload.slice(10)}`);
    },
    status: 401,
    reason: 'malformed_token',
  },
  { name: 'the signature in a non-canonical base64url form (unused trailing bits set)', build: ({ entra }) => nonCanonicalSignature(withClaims(entra, {})), status: 401, reason: 'malformed_token' },
  ...(
    [
      ['a JSON array', '[{"alg":"RS256"}]'],
      ['a JSON string', '"RS256"'],
      ['a JSON number', '256'],
      ['JSON null', 'null'],
    ] as const
  ).flatMap(([label, json]): HostileCase[] => [
    { name: `header that is ${label}, signed by the real key`, build: ({ entra }) => entra.sign(json, validParts(entra).payload), status: 401, reason: 'malformed_token' },
    { name: `payload that is ${label}, signed by the real key`, build: ({ entra }) => entra.sign(validParts(entra).header, json), status: 401, reason: 'malformed_token' },
  ]),

  // Duplicate names: whichever one a parser keeps, an attacker must not get in.
  {
    name: 'duplicate aud in the payload, ours first and another last',
    build: ({ entra }) => withRawPayload(entra, (json) => prepend(without(JSON.parse(json), 'aud'), `"aud":"${entra.clientId}","aud":"${EVIL_AUDIENCE}"`)),
    status: 401,
    reason: ['malformed_token', 'invalid_audience'],
  },
  {
    name: 'duplicate aud in the payload, another first and ours last',
    build: ({ entra }) => withRawPayload(entra, (json) => prepend(without(JSON.parse(json), 'aud'), `"aud":"${EVIL_AUDIENCE}","aud":"${entra.clientId}"`)),
    status: 401,
    reason: 'malformed_token',
  },
  {
    name: 'duplicate alg in the header, RS256 first and none last',
    build: ({ entra }) => {
      const { header, payload } = validParts(entra);
      return entra.sign(prepend(without(header, 'alg'), '"alg":"RS256","alg":"none"'), payload);
    },
    status: 401,
    reason: ['malformed_token', 'unsupported_algorithm'],
  },
  {
    name: 'duplicate alg in the header, none first and RS256 last',
    build: ({ entra }) => {
      const { header, payload } = validParts(entra);
      return entra.sign(prepend(without(header, 'alg'), '"alg":"none","alg":"RS256"'), payload);
    },
    status: 401,
    reason: 'malformed_token',
  },

  // Claims of the wrong type or absurd value, signed by the authority's real key.
  { name: 'exp as a string', build: ({ entra }) => withClaims(entra, { exp: String(Math.floor(Date.now() / 1000) + 3600) }), status: 401, reason: 'invalid_claims' },
  { name: 'exp missing', build: ({ entra }) => withClaims(entra, { exp: undefined }), status: 401, reason: 'invalid_claims' },
  { name: 'exp true', build: ({ entra }) => withClaims(entra, { exp: true }), status: 401, reason: 'invalid_claims' },
  { name: 'exp 1e300 (absurdly far future)', build: ({ entra }) => withClaims(entra, { exp: 1e300 }), status: 401, reason: 'invalid_claims' },
  { name: 'exp 1e400 in the JSON text (parses to Infinity)', build: ({ entra }) => withRawPayload(entra, (json) => prepend(without(JSON.parse(json), 'exp'), '"exp":1e400')), status: 401, reason: 'invalid_claims' },
  { name: 'exp -1e300 (absurdly far past)', build: ({ entra }) => withClaims(entra, { exp: -1e300 }), status: 401, reason: ['token_expired', 'invalid_claims'] },
  { name: 'nbf as a string', build: ({ entra }) => withClaims(entra, { nbf: String(Math.floor(Date.now() / 1000)) }), status: 401, reason: 'invalid_claims' },
  { name: 'nbf 1e400 in the JSON text (parses to Infinity)', build: ({ entra }) => withRawPayload(entra, (json) => prepend(without(JSON.parse(json), 'nbf'), '"nbf":1e400')), status: 401, reason: ['invalid_claims', 'token_not_yet_valid'] },
  { name: 'iat as an object', build: ({ entra }) => withClaims(entra, { iat: { $date: 1 } }), status: 401, reason: 'invalid_claims' },
  { name: 'iat as a string', build: ({ entra }) => withClaims(entra, { iat: '1700000000' }), status: 401, reason: 'invalid_claims' },
  { name: 'iat 1e300 (absurdly far future)', build: ({ entra }) => withClaims(entra, { iat: 1e300 }), status: 401, reason: 'invalid_claims' },
  { name: 'iat -1e400 in the JSON text (parses to -Infinity)', build: ({ entra }) => withRawPayload(entra, (json) => prepend(without(JSON.parse(json), 'iat'), '"iat":-1e400')), status: 401, reason: 'invalid_claims' },
  { name: 'aud as a number', build: ({ entra }) => withClaims(entra, { aud: 12345 }), status: 401, reason: 'invalid_claims' },
  { name: 'aud null', build: ({ entra }) => withClaims(entra, { aud: null }), status: 401, reason: 'invalid_claims' },
  { name: 'aud as an object', build: ({ entra }) => withClaims(entra, { aud: { value: entra.clientId } }), status: 401, reason: 'invalid_claims' },
  { name: 'aud as an array of our audience, multiple audiences not allowed', build: ({ entra }) => withClaims(entra, { aud: [entra.clientId] }), status: 401, reason: 'invalid_claims' },
  { name: 'aud as an array of ours and another, multiple audiences not allowed', build: ({ entra }) => withClaims(entra, { aud: [entra.clientId, EVIL_AUDIENCE] }), status: 401, reason: 'invalid_claims' },
  { name: 'aud as an array of our audiences, multiple audiences allowed', app: 'limits', build: ({ entra }) => withClaims(entra, { aud: [entra.clientId, `api://${entra.clientId}`] }), status: 200 },
  { name: 'aud as an array of ours and another, multiple audiences allowed', app: 'limits', build: ({ entra }) => withClaims(entra, { aud: [entra.clientId, EVIL_AUDIENCE] }), status: 401, reason: 'invalid_audience' },
  { name: 'aud as an empty array, multiple audiences allowed', app: 'limits', build: ({ entra }) => withClaims(entra, { aud: [] }), status: 401, reason: 'invalid_audience' },
  { name: 'aud as an array of ours and a number, multiple audiences allowed', app: 'limits', build: ({ entra }) => withClaims(entra, { aud: [entra.clientId, 7] }), status: 401, reason: ['invalid_audience', 'invalid_claims'] },
  { name: 'scp as an array', build: ({ entra }) => withClaims(entra, { scp: ['Todolist.Read'] }), status: 401, reason: 'invalid_claims' },
  { name: 'roles as a string', build: ({ entra }) => withClaims(entra, { roles: 'TaskAdmin' }), status: 401, reason: 'invalid_claims' },
  { name: 'sub as a number', build: ({ entra }) => withClaims(entra, { sub: 42 }), status: 401, reason: 'invalid_claims' },
  { name: 'ver as a number', build: ({ entra }) => withClaims(entra, { ver: 2 }), status: 401, reason: 'invalid_claims' },
  { name: 'tid as a number', build: ({ entra }) => withClaims(entra, { tid: 42 }), status: 401, reason: 'invalid_claims' },
  { name: 'iss as an array', build: ({ entra }) => withClaims(entra, { iss: [entra.v2Issuer()] }), status: 401, reason: 'invalid_claims' },

  // Size
  { name: 'a token of about 5000 bytes over a 4096-byte limit', app: 'limits', build: ({ entra }) => tokenOfSize(entra, 5000), status: 401, reason: 'token_too_large' },

  // Location: only the Authorization header.
  {
    name: 'token only in the query string',
    build: ({ entra }) => {
      const token = withClaims(entra, {});
      return { query: `?access_token=${token}`, secret: token };
    },
    status: 401,
    reason: 'token_missing',
  },
  {
    name: 'token only in a JSON body',
    build: ({ entra }) => {
      const token = withClaims(entra, {});
      return { method: 'POST', path: '/api/todolist', body: { access_token: token }, secret: token };
    },
    status: 401,
    reason: 'token_missing',
  },
];
