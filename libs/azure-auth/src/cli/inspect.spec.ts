import { formatDuration, inspectToken, normalizeTokenInput } from './inspect.js';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const jws = (header: unknown, claims: unknown, signature = 'c2lnbmF0dXJl') => `${b64(header)}.${b64(claims)}.${signature}`;

const NOW_MS = Date.UTC(2030, 0, 1, 12, 0, 0);
const NOW = NOW_MS / 1000;
const TENANT = '6f1e2c3d-4b5a-4978-8c6d-5e4f3a2b1c0d';
const CLIENT_APP = 'c4d2b1a0-9e8f-47a6-b5c4-d3e2f1a0b9c8';

describe('normalizeTokenInput', () => {
  it.each([
    ['  abc.def.ghi\n', 'abc.def.ghi'],
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['bearer   abc.def.ghi', 'abc.def.ghi'],
    ['Authorization: Bearer abc.def.ghi', 'abc.def.ghi'],
    ['"abc.def.ghi"', 'abc.def.ghi'],
    ["'Bearer abc.def.ghi'\n", 'abc.def.ghi'],
    ['Bearer', 'Bearer'],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(normalizeTokenInput(input)).toBe(expected);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0 s'],
    [59, '59 s'],
    [60, '1 min'],
    [3599, '59 min'],
    [3600, '1 h'],
    [3600 + 5 * 60 + 7, '1 h 5 min'],
    [86_400, '1 d'],
    [86_400 * 3 + 3600 * 4 + 59, '3 d 4 h'],
    [-180, '3 min'],
  ])('%d s → %s', (seconds, expected) => {
    expect(formatDuration(seconds)).toBe(expected);
  });
});

describe('inspectToken', () => {
  const v2User = {
    aud: 'a3f5c8e1-2b4d-4f6a-9c8e-1d2b3c4d5e6f',
    iss: `https://login.microsoftonline.com/${TENANT}/v2.0`,
    iat: NOW - 60,
    nbf: NOW - 60,
    exp: NOW + 3540,
    azp: CLIENT_APP,
    oid: '0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a',
    sub: 'pairwise-subject',
    scp: 'Todolist.Read  Todolist.ReadWrite',
    roles: ['TaskAdmin'],
    tid: TENANT,
    ver: '2.0',
  };

  it('decodes header and claims, and keeps no trace of the signature', () => {
    const token = jws({ typ: 'JWT', alg: 'RS256', kid: 'k1' }, v2User, 'U0lHTkFUVVJFLVNFR01FTlQ');
    const inspection = inspectToken(token, NOW_MS);
    expect(inspection.header).toEqual({ typ: 'JWT', alg: 'RS256', kid: 'k1' });
    expect(inspection.claims).toEqual(v2User);
    expect(JSON.stringify(inspection)).not.toContain('U0lHTkFUVVJFLVNFR01FTlQ');
  });

  it('gives iat, nbf and exp as ISO dates relative to now, and the remaining lifetime', () => {
    const inspection = inspectToken(jws({ alg: 'RS256' }, v2User), NOW_MS);
    expect(inspection.times).toEqual([
      { claim: 'iat', epochSeconds: NOW - 60, iso: '2030-01-01T11:59:00.000Z', relative: '1 min ago' },
      { claim: 'nbf', epochSeconds: NOW - 60, iso: '2030-01-01T11:59:00.000Z', relative: '1 min ago' },
      { claim: 'exp', epochSeconds: NOW + 3540, iso: '2030-01-01T12:59:00.000Z', relative: 'in 59 min' },
    ]);
    expect(inspection.lifetime).toEqual({ totalSeconds: 3600, remainingSeconds: 3540, expired: false, description: '59 min left of 1 h' });
  });

  it('says how long ago an expired token expired', () => {
    const inspection = inspectToken(jws({ alg: 'RS256' }, { ...v2User, iat: NOW - 3780, nbf: NOW - 3780, exp: NOW - 180 }), NOW_MS);
    expect(inspection.times.find((time) => time.claim === 'exp')?.relative).toBe('expired 3 min ago');
    expect(inspection.lifetime).toMatchObject({ expired: true, remainingSeconds: -180, description: 'expired 3 min ago' });
  });

  it('marks a not-before in the future', () => {
    const inspection = inspectToken(jws({ alg: 'RS256' }, { ...v2User, nbf: NOW + 120 }), NOW_MS);
    expect(inspection.times.find((time) => time.claim === 'nbf')?.relative).toBe('in 2 min (not valid yet)');
  });

  it('leaves out times that are not numbers and says when exp is missing', () => {
    const inspection = inspectToken(jws({ alg: 'RS256' }, { ...v2User, iat: 'yesterday', exp: undefined, nbf: 1e300 }), NOW_MS);
    expect(inspection.times).toEqual([]);
    expect(inspection.lifetime.description).toMatch(/no numeric exp claim/);
    expect(inspection.lifetime.expired).toBe(false);
  });

  it('splits scp on spaces, exactly, and lists roles', () => {
    const inspection = inspectToken(jws({ alg: 'RS256' }, v2User), NOW_MS);
    expect(inspection.scopes).toEqual(['Todolist.Read', 'Todolist.ReadWrite']);
    expect(inspection.roles).toEqual(['TaskAdmin']);
  });

  it('summarizes a delegated v2 token', () => {
    expect(inspectToken(jws({ alg: 'RS256' }, v2User), NOW_MS).summary).toEqual({
      version: '2.0',
      kind: 'delegated',
      guest: false,
      tenantId: TENANT,
      clientApp: CLIENT_APP,
      forMicrosoftGraph: false,
    });
  });

  it('summarizes an app-only v1 token (no scp, oid equals sub) with its client in appid', () => {
    const claims = { aud: 'api://x', iss: `https://sts.windows.net/${TENANT}/`, exp: NOW + 60, appid: CLIENT_APP, oid: 'o', sub: 'o', roles: ['Todolist.Read.All'], tid: TENANT, ver: '1.0' };
    expect(inspectToken(jws({ alg: 'RS256', x5t: 'k' }, claims), NOW_MS).summary).toMatchObject({ version: '1.0', kind: 'app-only', clientApp: CLIENT_APP, guest: false });
  });

  it('recognizes a guest user', () => {
    expect(inspectToken(jws({ alg: 'RS256' }, { ...v2User, acct: 1 }), NOW_MS).summary.guest).toBe(true);
  });

  it('recognizes a Microsoft Graph token by its audience or by the nonce in its header', () => {
    expect(inspectToken(jws({ alg: 'RS256' }, { ...v2User, aud: '00000003-0000-0000-c000-000000000000' }), NOW_MS).summary.forMicrosoftGraph).toBe(true);
    expect(inspectToken(jws({ alg: 'RS256' }, { ...v2User, aud: 'https://graph.microsoft.com' }), NOW_MS).summary.forMicrosoftGraph).toBe(true);
    expect(inspectToken(jws({ alg: 'RS256', nonce: 'n' }, v2User), NOW_MS).summary.forMicrosoftGraph).toBe(true);
  });

  it.each([
    ['one part', 'garbage', /three parts/],
    ['two parts', 'a.b', /three parts/],
    ['an empty payload', `${b64({ alg: 'RS256' })}..sig`, /empty part/],
    ['an empty signature', `${b64({ alg: 'RS256' })}.${b64(v2User)}.`, /empty part/],
    ['a header that is not JSON', `not-json.${b64(v2User)}.sig`, /header is not JSON/],
    ['a header that is an array', `${b64([1, 2])}.${b64(v2User)}.sig`, /header is not a JSON object/],
    ['four parts', `${b64({ alg: 'RS256' })}.${b64(v2User)}.sig.extra`, /three parts/],
  ])('refuses %s as malformed_token', (_label, token, why) => {
    expect(() => inspectToken(token, NOW_MS)).toThrow(expect.objectContaining({ reason: 'malformed_token', description: expect.stringMatching(why) }));
  });
});
