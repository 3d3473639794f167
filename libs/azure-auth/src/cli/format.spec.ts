import { formatJson, formatText, printable } from './format.js';
import { inspectToken } from './inspect.js';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const NOW_MS = Date.UTC(2030, 0, 1, 12, 0, 0);
const NOW = NOW_MS / 1000;
const SIGNATURE = 'VGhlU2lnbmF0dXJlU2VnbWVudA';

const claims = {
  aud: 'a3f5c8e1-2b4d-4f6a-9c8e-1d2b3c4d5e6f',
  iss: 'https://login.microsoftonline.com/6f1e2c3d-4b5a-4978-8c6d-5e4f3a2b1c0d/v2.0',
  iat: NOW - 180,
  exp: NOW + 3420,
  azp: 'c4d2b1a0-9e8f-47a6-b5c4-d3e2f1a0b9c8',
  oid: '0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a',
  sub: 'pairwise',
  scp: 'Todolist.Read Todolist.ReadWrite',
  roles: ['TaskAdmin', 'Auditor'],
  tid: '6f1e2c3d-4b5a-4978-8c6d-5e4f3a2b1c0d',
  ver: '2.0',
};
const token = inspectToken(`${b64({ typ: 'JWT', alg: 'RS256', kid: 'key-1' })}.${b64(claims)}.${SIGNATURE}`, NOW_MS);

describe('printable', () => {
  it('escapes terminal control sequences and bidi overrides that a hostile claim could carry', () => {
    expect(printable('red\u001b[31m\u0007')).toBe('red\\u001b[31m\\u0007');
    expect(printable('abc\u202edcba')).toBe('abc\\u202edcba');
    expect(printable('line\nbreak\r')).toBe('line\\u000abreak\\u000d');
    expect(printable('Ünïcödé ✓')).toBe('Ünïcödé ✓');
  });
});

describe('formatText', () => {
  const skipped = { status: 'skipped', note: 'Set AZURE_TENANT_ID and AZURE_CLIENT_ID to verify the token.' } as const;

  it('shows the header, the claims as a table, times as ISO dates with relative times, and the split scp', () => {
    const text = formatText({ token, verdict: skipped });
    expect(text).toContain('Header\n  typ  JWT\n  alg  RS256\n  kid  key-1\n');
    expect(text).toMatch(/^ {2}iat +2030-01-01T11:57:00\.000Z {2}\(3 min ago\)$/m);
    expect(text).toMatch(/^ {2}exp +2030-01-01T12:57:00\.000Z {2}\(in 57 min\)$/m);
    expect(text).toMatch(/^ {2}scp +Todolist\.Read\n {2} +Todolist\.ReadWrite$/m);
    expect(text).toMatch(/^ {2}roles +TaskAdmin\n {2} +Auditor$/m);
    expect(text).toMatch(/^ {2}lifetime +57 min left of 1 h$/m);
    expect(text).toMatch(/^ {2}kind +delegated \(a signed-in user\)$/m);
    expect(text).toContain('Verification skipped\n  Set AZURE_TENANT_ID');
    expect(text).not.toContain(SIGNATURE);
  });

  it('shows what a step-up route makes of a user token: its acrs, and whether its client answers claims challenges', () => {
    const plain = formatText({ token, verdict: skipped });
    expect(plain).toMatch(/^ {2}auth contexts +\(none: no acrs claim\)$/m);
    expect(plain).toMatch(/^ {2}claims challenges +not declared \(no cp1 in xms_cc\): a step-up route answers 403 auth_context_required$/m);
    const steppedUp = inspectToken(`${b64({ typ: 'JWT', alg: 'RS256', kid: 'key-1' })}.${b64({ ...claims, acrs: ['c1', 'c2'], xms_cc: ['cp1'] })}.${SIGNATURE}`, NOW_MS);
    const text = formatText({ token: steppedUp, verdict: skipped });
    expect(text).toMatch(/^ {2}auth contexts +c1\n {2} +c2$/m);
    expect(text).toMatch(/^ {2}claims challenges +answered \(xms_cc holds cp1\): a step-up route sends a 401 challenge$/m);
  });

  it('prints a VALID verdict with the principal', () => {
    const text = formatText({
      token,
      verdict: {
        status: 'valid',
        principal: { oid: claims.oid, tid: claims.tid, sub: 'pairwise', clientId: claims.azp, tokenVersion: '2.0', appOnly: false, guest: false, username: 'ada@contoso.example', name: 'Ada', scopes: ['Todolist.Read'], roles: [] },
      },
    });
    expect(text).toContain('Verdict: VALID\n');
    expect(text).toMatch(/^ {2}caller +ada@contoso\.example \(Ada\)$/m);
    expect(text).toMatch(/^ {2}roles +\(none\)$/m);
  });

  it('prints a REFUSED verdict with reason, description and the fix; without a token when it did not decode', () => {
    const text = formatText({
      verdict: { status: 'refused', reason: 'token_expired', httpStatus: 401, description: 'Token expired 180 seconds ago', hint: 'Acquire a new token.' },
    });
    expect(text).toBe(
      ['Verdict: REFUSED (token_expired; the API answers 401)', '  reason  token_expired', '  why     Token expired 180 seconds ago', '  fix     Acquire a new token.', ''].join('\n'),
    );
  });

  it('escapes hostile claim names and values', () => {
    const hostile = inspectToken(`${b64({ alg: 'RS256' })}.${b64({ 'x\u001b]0;pwned\u0007': 'y\u001b[2J', exp: NOW + 60 })}.sig`, NOW_MS);
    const text = formatText({ token: hostile, verdict: skipped });
    expect(text).not.toMatch(/\u001b|\u0007/);
    expect(text).toContain('x\\u001b]0;pwned\\u0007');
  });
});

describe('formatJson', () => {
  it('carries token, verdict and exit code, and parses back', () => {
    const parsed = JSON.parse(formatJson({ token, verdict: { status: 'skipped', note: 'n' } }, 0));
    expect(parsed).toMatchObject({ exitCode: 0, verdict: { status: 'skipped' }, token: { header: { kid: 'key-1' }, scopes: ['Todolist.Read', 'Todolist.ReadWrite'], claims: { oid: claims.oid } } });
    expect(parsed.token.times.map((time: { claim: string }) => time.claim)).toEqual(['iat', 'exp']);
  });

  it('gives token null when the input did not decode', () => {
    const parsed = JSON.parse(formatJson({ verdict: { status: 'refused', reason: 'malformed_token', httpStatus: 401, description: 'd' } }, 1));
    expect(parsed).toEqual({ token: null, verdict: { status: 'refused', reason: 'malformed_token', httpStatus: 401, description: 'd' }, exitCode: 1 });
  });
});

describe('formatText: a token inside the clock tolerance', () => {
  it('says that a token accepted after its exp must be refreshed', () => {
    const late = inspectToken(`${b64({ alg: 'RS256' })}.${b64({ ...claims, exp: NOW - 120 })}.sig`, NOW_MS);
    const principal = { oid: 'o', tid: 't', sub: 's', clientId: 'c', tokenVersion: '2.0', appOnly: false, guest: false, scopes: [], roles: [] };
    expect(formatText({ token: late, verdict: { status: 'valid', principal } })).toMatch(/expired but is still inside the clock tolerance/);
    expect(formatText({ token, verdict: { status: 'valid', principal } })).not.toMatch(/clock tolerance/);
  });
});
