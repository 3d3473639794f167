import { extractBearerToken, type RequestWithHeaders } from './extract-bearer-token.js';

const withAuthorization = (value: string | string[] | undefined): RequestWithHeaders => ({ headers: { authorization: value } });

describe('extractBearerToken', () => {
  it.each(['Bearer x', 'bearer x', 'BEARER x', 'BeArEr x'])('reads the token of %p (scheme case-insensitive)', (header) => {
    expect(extractBearerToken(withAuthorization(header))).toBe('x');
  });

  it('returns a whole JWT', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
    expect(extractBearerToken(withAuthorization(`Bearer ${jwt}`))).toBe(jwt);
  });

  it('trims surrounding whitespace from the token', () => {
    expect(extractBearerToken(withAuthorization('Bearer   x  '))).toBe('x');
  });

  it('trims only space and horizontal tab, as HTTP defines whitespace', () => {
    expect(extractBearerToken(withAuthorization('Bearer x\t \t'))).toBe('x');
    expect(extractBearerToken(withAuthorization('Bearer \tx'))).toBe('x');
  });

  it.each([
    ['a no-break space after the token', 'Bearer x\u00a0', 'x\u00a0'],
    ['a no-break space before the token', 'Bearer \u00a0x', '\u00a0x'],
    ['an em space after the token', 'Bearer x\u2003', 'x\u2003'],
    ['a line feed after the token', 'Bearer x\n', 'x\n'],
  ])('keeps %s in the token (it then fails as malformed)', (_name, header, token) => {
    expect(extractBearerToken(withAuthorization(header))).toBe(token);
  });

  it.each([
    ['another scheme', 'Basic x'],
    ['a scheme that only starts with Bearer', 'Bearerx'],
    ['a longer scheme', 'Bearerish x'],
    ['the scheme alone', 'Bearer'],
    ['the scheme and a space', 'Bearer '],
    ['the scheme and blanks', 'Bearer   '],
    ['a tab after the scheme', 'Bearer\tx'],
    ['an empty header', ''],
    ['a token without scheme', 'eyJhbGciOiJSUzI1NiJ9.e.s'],
  ])('returns null for %s', (_name, header) => {
    expect(extractBearerToken(withAuthorization(header))).toBeNull();
  });

  it('returns null without an Authorization header', () => {
    expect(extractBearerToken({ headers: {} })).toBeNull();
    expect(extractBearerToken(withAuthorization(undefined))).toBeNull();
  });

  it('returns null for an array header', () => {
    expect(extractBearerToken(withAuthorization(['Bearer x', 'Bearer y']))).toBeNull();
  });

  it('returns null without a headers object, or without a request', () => {
    expect(extractBearerToken({})).toBeNull();
    expect(extractBearerToken(undefined as unknown as RequestWithHeaders)).toBeNull();
  });

  it('reads only the lower-case header key (as Node delivers it), never the query string', () => {
    const request = { headers: { Authorization: 'Bearer x' }, query: { access_token: 'x' } } as unknown as RequestWithHeaders;
    expect(extractBearerToken(request)).toBeNull();
  });
});
