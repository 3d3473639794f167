import type { INestApplication } from '@nestjs/common';
import fc from 'fast-check';
import type { AzureAuthReason } from 'nestjs-azure-auth';
import { EntraEmulator, decodeJwtUnverified } from 'nestjs-azure-auth/testing';
import { call, emulatorOptions, probeApp, type HttpAnswer } from './support/test-app.js';

const NUM_RUNS = 150;
const CLOCK_TOLERANCE_SECONDS = 300;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const GRAPH_AUDIENCES = new Set(['00000003-0000-0000-c000-000000000000', 'https://graph.microsoft.com', 'https://graph.microsoft.com/']);
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Header parameters and claims the module reads: random extras stay clear of them, so that only the corrupted claim decides. */
const READ_HEADER_PARAMETERS = new Set(['alg', 'kid', 'crit', 'nonce']);
const READ_CLAIMS = new Set([
  'aud', 'iss', 'iat', 'nbf', 'exp', 'ver', 'tid', 'oid', 'sub', 'scp', 'roles', 'azp', 'azpacr', 'appid', 'appidacr', 'idtyp',
  'name', 'preferred_username', 'upn', 'unique_name', 'acct', 'idp', 'groups', 'hasgroups', 'wids', 'xms_cc', 'acrs', 'tfp', 'acr',
]);

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** JSON values up to a small depth: enough variety without slowing the runs. */
const anyJson = () => fc.jsonValue({ maxDepth: 2 });
const extras = (reserved: ReadonlySet<string>) =>
  fc.dictionary(
    fc.string({ maxLength: 12 }).filter((name) => !reserved.has(name)),
    anyJson(),
    { maxKeys: 4 },
  );

describe('token properties (fast-check, express)', () => {
  let entra: EntraEmulator;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    entra = await EntraEmulator.start();
    ({ app, url } = await probeApp('express', emulatorOptions(entra)));
  });
  afterAll(async () => {
    await app?.close();
    await entra?.stop();
  });

  const me = (token: string) => call(`${url}/api/me`, { headers: { authorization: `Bearer ${token}` } });

  /** A refusal as RFC 6750 wants it; the returned reason is for the caller to check. */
  function expectRefusal(answer: HttpAnswer): string {
    expect(answer.status).toBe(401);
    const challenge = answer.headers.get('www-authenticate') ?? '';
    if (answer.body.reason === 'token_missing') expect(challenge).toBe(`Bearer realm="api://${entra.clientId}"`);
    else expect(challenge).toMatch(/^Bearer realm="[^"]+", error="invalid_token", error_description="[^"]+"$/);
    return answer.body.reason;
  }

  describe('mutations of a valid token are never accepted and never a 500', () => {
    type Mutation =
      | { kind: 'flip'; at: number; char: string }
      | { kind: 'truncate'; at: number }
      | { kind: 'swap'; order: number[] }
      | { kind: 'duplicate'; segment: number; at: number; replace: boolean };

    const mutation: fc.Arbitrary<Mutation> = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), char: fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code)) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('swap' as const), order: fc.shuffledSubarray([0, 1, 2], { minLength: 3, maxLength: 3 }) }),
      fc.record({ kind: fc.constant('duplicate' as const), segment: fc.nat({ max: 2 }), at: fc.nat({ max: 3 }), replace: fc.boolean() }),
    );

    function apply(token: string, change: Mutation): string {
      const segments = token.split('.');
      switch (change.kind) {
        case 'flip': {
          const at = change.at % token.length;
          return token.slice(0, at) + change.char + token.slice(at + 1);
        }
        case 'truncate':
          return token.slice(0, change.at % token.length);
        case 'swap':
          return change.order.map((index) => segments[index % segments.length] ?? '').join('.');
        case 'duplicate': {
          const copy = segments[change.segment % segments.length] ?? '';
          const at = change.at % (segments.length + (change.replace ? 0 : 1));
          segments.splice(at, change.replace ? 1 : 0, copy);
          return segments.join('.');
        }
      }
    }

    /**
     * Whether a mutation left the signed bytes as they were (a flip of the unused low bits of a
     * last base64url character): that is not a different token. The table-driven suite has its
     * own case for that form.
     */
    function sameJws(original: string, mutated: string): boolean {
      const a = original.split('.');
      const b = mutated.split('.');
      return (
        a.length === b.length &&
        b.every((segment, index) => BASE64URL.test(segment) && Buffer.from(segment, 'base64url').equals(Buffer.from(a[index], 'base64url')))
      );
    }

    it('byte flips, truncations, segment swaps and duplications: 401 with a challenge', async () => {
      const valid = {
        v2: entra.mintAccessToken({ scopes: ['Todolist.Read'] }),
        v1: entra.mintAccessToken({ version: 1, scopes: ['Todolist.Read'] }),
      };
      // The originals pass, so a refusal below is the mutation's doing.
      expect((await me(valid.v2)).status).toBe(200);
      expect((await me(valid.v1)).status).toBe(200);

      await fc.assert(
        fc.asyncProperty(fc.constantFrom('v2', 'v1') as fc.Arbitrary<'v2' | 'v1'>, fc.array(mutation, { minLength: 1, maxLength: 3 }), async (version, changes) => {
          const original = valid[version];
          const mutated = changes.reduce(apply, original);
          fc.pre(mutated !== original && !sameJws(original, mutated));
          expectRefusal(await me(mutated));
        }),
        { numRuns: NUM_RUNS },
      );
    });
  });

  describe('claims signed with the real key but breaking one rule are refused for that rule', () => {
    type CorruptedClaim = 'iss' | 'aud' | 'exp' | 'nbf' | 'ver' | 'tid';
    interface Corruption {
      claim: CorruptedClaim;
      /** `undefined` removes the claim. */
      value: unknown;
    }

    /** Values for each claim that break at least one rule, whatever the token version. */
    function corruption(): fc.Arbitrary<Corruption> {
      const now = nowSeconds();
      const removed = fc.constant(undefined);
      const notNumber = anyJson().filter((value) => typeof value !== 'number');
      const audiences = new Set([entra.clientId, `api://${entra.clientId}`, `spn:${entra.clientId}`]);
      const issuers = new Set([entra.v1Issuer(), entra.v2Issuer()]);
      const OTHER_TENANT = '0b3d7a1c-9e2f-4d6b-8a5c-1f2e3d4c5b6a';
      return fc.oneof(
        fc.record({
          claim: fc.constant('iss' as const),
          value: fc.oneof(anyJson(), fc.webUrl(), removed, fc.constantFrom(entra.v2Issuer(OTHER_TENANT), `${entra.v2Issuer()}/`, 'https://sts.windows.net/common/')),
        }),
        fc.record({
          claim: fc.constant('aud' as const),
          value: fc
            .oneof(anyJson(), fc.uuid(), removed, fc.constantFrom(entra.clientId.toUpperCase(), `api://${entra.clientId}/`, [entra.clientId], 'https://graph.microsoft.com'))
            .filter((value) => !(typeof value === 'string' && audiences.has(value))),
        }),
        fc.record({
          claim: fc.constant('exp' as const),
          value: fc.oneof(notNumber, removed, fc.integer({ min: -(2 ** 40), max: now - CLOCK_TOLERANCE_SECONDS - 60 })),
        }),
        fc.record({
          claim: fc.constant('nbf' as const),
          value: fc.oneof(notNumber, fc.integer({ min: now + CLOCK_TOLERANCE_SECONDS + 60, max: 2 ** 42 })),
        }),
        fc.record({
          claim: fc.constant('ver' as const),
          value: fc.oneof(anyJson(), removed, fc.constantFrom('1.0', '2.0', '2', '3.0', ' 2.0')),
        }),
        fc.record({
          claim: fc.constant('tid' as const),
          value: fc
            .oneof(anyJson(), fc.uuid(), removed, fc.constantFrom(OTHER_TENANT, entra.tenantId.replace(/-/g, ''), `{${entra.tenantId}}`))
            .filter((value) => !(typeof value === 'string' && value.toLowerCase() === entra.tenantId)),
        }),
      ).filter(({ claim, value }) => claim !== 'iss' || !(typeof value === 'string' && issuers.has(value)));
    }

    /** The reasons a refusal of this corruption may carry on a token of this version. */
    function expectedReasons({ claim, value }: Corruption, version: '1.0' | '2.0'): AzureAuthReason[] {
      switch (claim) {
        case 'iss':
          return typeof value === 'string' ? ['invalid_issuer'] : ['invalid_claims'];
        case 'aud': {
          const all = Array.isArray(value) ? value : [value];
          if (all.some((entry) => typeof entry === 'string' && GRAPH_AUDIENCES.has(entry.toLowerCase()))) return ['graph_token'];
          return typeof value === 'string' ? ['invalid_audience'] : ['invalid_claims'];
        }
        case 'exp':
          return typeof value === 'number' ? ['token_expired'] : ['invalid_claims'];
        case 'nbf':
          return typeof value === 'number' ? ['token_not_yet_valid'] : ['invalid_claims'];
        case 'ver':
          // The other version's number sends the token to the other issuer, which is not its own.
          if (value === version) return [];
          return value === '1.0' || value === '2.0' ? ['invalid_issuer', 'token_version_not_accepted'] : ['invalid_claims'];
        case 'tid':
          return typeof value === 'string' && GUID.test(value) ? ['invalid_issuer'] : ['invalid_claims'];
      }
    }

    /** A valid claim set of either version, and random header parameters and claims the module does not read. */
    const validToken = () =>
      fc.record({
        version: fc.constantFrom(1, 2) as fc.Arbitrary<1 | 2>,
        headerExtras: extras(READ_HEADER_PARAMETERS),
        claimExtras: extras(READ_CLAIMS),
      });

    function sign(version: 1 | 2, headerExtras: object, claims: Record<string, unknown>): string {
      const { header, payload } = decodeJwtUnverified(entra.mintAccessToken({ version, scopes: ['Todolist.Read'] }));
      for (const [name, value] of Object.entries(claims)) {
        if (value === undefined) delete payload[name];
        // defineProperty: a random "__proto__" claim must land in the JSON, not on the prototype.
        else Object.defineProperty(payload, name, { value, enumerable: true, writable: true, configurable: true });
      }
      return entra.sign({ ...headerExtras, ...header }, payload);
    }

    it('control: valid claims with random extra header parameters and claims are accepted', async () => {
      await fc.assert(
        fc.asyncProperty(validToken(), async ({ version, headerExtras, claimExtras }) => {
          const answer = await me(sign(version, headerExtras, { ...claimExtras }));
          expect({ status: answer.status, reason: answer.body?.reason }).toEqual({ status: 200, reason: undefined });
        }),
        { numRuns: 50 },
      );
    });

    it('one corrupted claim among iss, aud, exp, nbf, ver, tid: 401 with the reason of that claim', async () => {
      await fc.assert(
        fc.asyncProperty(validToken(), corruption(), async ({ version, headerExtras, claimExtras }, corrupted) => {
          const expected = expectedReasons(corrupted, version === 1 ? '1.0' : '2.0');
          fc.pre(expected.length > 0);
          const answer = await me(sign(version, headerExtras, { ...claimExtras, [corrupted.claim]: corrupted.value }));
          const reason = expectRefusal(answer);
          expect(expected).toContain(reason);
        }),
        { numRuns: NUM_RUNS },
      );
    });
  });
});
