import { AzureAuthError } from '../errors/azure-auth.error.js';
import { decodeJwt, hasDuplicateMembers } from './decode-jwt.js';

const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8').toString('base64url');

const header = b64({ alg: 'RS256', kid: 'k1', typ: 'JWT' });
const payload = b64({ aud: 'api', iss: 'https://sts.windows.net/t/', exp: 1 });
const signature = Buffer.from('signature-bytes').toString('base64url');

function reasonOf(token: string): string | undefined {
  try {
    decodeJwt(token);
  } catch (error) {
    expect(error).toBeInstanceOf(AzureAuthError);
    return (error as AzureAuthError).reason;
  }
  return undefined;
}

describe('decodeJwt', () => {
  it('decodes a compact JWS of three base64url segments', () => {
    const decoded = decodeJwt(`${header}.${payload}.${signature}`);
    expect(decoded.header).toEqual({ alg: 'RS256', kid: 'k1', typ: 'JWT' });
    expect(decoded.payload).toEqual({ aud: 'api', iss: 'https://sts.windows.net/t/', exp: 1 });
  });

  it('decodes segments that use the url-safe characters - and _', () => {
    // '>>>' encodes to 'Pj4-' and '???' to 'Pz8_' in base64url.
    const decoded = decodeJwt(`${b64({ alg: 'RS256', x: '???' })}.${b64({ s: '>>>' })}.ab-_`);
    expect(decoded.header.x).toBe('???');
    expect(decoded.payload.s).toBe('>>>');
  });

  it.each([
    ['two segments', `${header}.${payload}`],
    ['one segment', header],
    ['empty string', ''],
    ['four segments', `${header}.${payload}.${signature}.extra`],
    ['five segments (JWE)', `${header}.enckey.iv.ciphertext.tag`],
    ['empty payload', `${header}..${signature}`],
    ['empty signature', `${header}.${payload}.`],
    ['empty header (leading dot)', `.${payload}.${signature}`],
    ['only dots', '..'],
    ['trailing dot after signature', `${header}.${payload}.${signature}.`],
  ])('refuses %s as malformed_token', (_name, token) => {
    expect(reasonOf(token)).toBe('malformed_token');
  });

  it.each([
    ['+ in the header', `${header.slice(0, -1)}+.${payload}.${signature}`],
    ['/ in the payload', `${header}.${payload}/.${signature}`],
    ['= padding on the payload', `${header}.${payload}=.${signature}`],
    ['= padding on the signature', `${header}.${payload}.${signature}==`],
    ['+ in the signature', `${header}.${payload}.ab+c`],
    ['a space in the header', `${header} .${payload}.${signature}`],
    ['a space in the signature', `${header}.${payload}.ab c`],
    ['a leading space', ` ${header}.${payload}.${signature}`],
    ['a newline in the payload', `${header}.${payload}\n.${signature}`],
  ])('refuses non-base64url characters: %s', (_name, token) => {
    expect(reasonOf(token)).toBe('malformed_token');
  });

  /** The same token with one character re-spelled above U+00FF, keeping its low byte. */
  const respelled = (token: string, at: number) => token.slice(0, at) + String.fromCharCode(0x100 + token.charCodeAt(at)) + token.slice(at + 1);

  it.each([
    ['the header', 0],
    ['the payload', header.length + 1],
    ['the signature', header.length + payload.length + 2],
  ])('refuses a character above U+00FF whose low byte is base64url, in %s', (_name, at) => {
    const token = `${header}.${payload}.${signature}`;
    expect(reasonOf(token)).toBeUndefined();
    expect(reasonOf(respelled(token, at))).toBe('malformed_token');
  });

  it('refuses a header that is not JSON', () => {
    expect(reasonOf(`${b64('not json')}.${payload}.${signature}`)).toBe('malformed_token');
  });

  it('refuses a payload that is not JSON', () => {
    expect(reasonOf(`${header}.${b64('{"aud":')}.${signature}`)).toBe('malformed_token');
  });

  it.each([
    ['a JSON array', [1, 2]],
    ['a JSON string', 'just a string'],
    ['JSON null', null],
    ['a JSON number', 42],
  ])('refuses a payload that is %s', (_name, value) => {
    const encoded = Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
    expect(reasonOf(`${header}.${encoded}.${signature}`)).toBe('malformed_token');
  });

  it('refuses a header that is a JSON array', () => {
    expect(reasonOf(`${b64([{ alg: 'RS256' }])}.${payload}.${signature}`)).toBe('malformed_token');
  });

  it('never puts token content into the error description', () => {
    const secret = b64({ secret: 'do-not-leak' });
    try {
      decodeJwt(`${secret}.${payload}`);
      throw new Error('expected a refusal');
    } catch (error) {
      expect((error as AzureAuthError).description).not.toContain(secret);
      expect((error as AzureAuthError).status).toBe(401);
    }
  });
});

describe('hasDuplicateMembers', () => {
  it('finds a top-level name given twice, also when spelled with escapes', () => {
    expect(hasDuplicateMembers('{"alg":"none","alg":"RS256"}')).toBe(true);
    expect(hasDuplicateMembers('{"aud":"x","a\\u0075d":"y"}')).toBe(true);
  });

  it('finds names given twice behind escaped quotes and backslashes, and __proto__ given twice', () => {
    expect(hasDuplicateMembers(String.raw`{"a":"x\\","a":1}`)).toBe(true);
    expect(hasDuplicateMembers(String.raw`{"a\"b":1,"a\"b":2}`)).toBe(true);
    expect(hasDuplicateMembers('{"__proto__":1,"__proto__":2}')).toBe(true);
    expect(hasDuplicateMembers(String.raw`{"a":"say \"hi\", \"a\":1","b":"\\","c":{"a":1}}`)).toBe(false);
  });

  it('does not confuse nested objects, arrays or string values with top-level names', () => {
    expect(hasDuplicateMembers('{"a":{"b":1,"b":2},"c":[{"a":1}],"d":"\\"a\\":1,","e":[1,"a"]}')).toBe(false);
    expect(hasDuplicateMembers('{"roles":["a","a"],"x":"{\\"x\\":1}"}')).toBe(false);
  });
});
