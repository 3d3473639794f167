import { AzureAuthError } from './azure-auth.error.js';
import { AzureAuthErrors } from './messages.js';
import { toAzureAuthError } from './to-azure-auth-error.js';

function libraryError(name: string, message: string, extra: Record<string, unknown> = {}): Error {
  const error = new Error(message);
  error.name = name;
  return Object.assign(error, extra);
}

const now = Date.UTC(2030, 0, 1);

describe('toAzureAuthError', () => {
  it('TokenExpiredError → token_expired with the seconds since expiredAt', () => {
    const [error, unexpected] = toAzureAuthError(libraryError('TokenExpiredError', 'jwt expired', { expiredAt: new Date(now - 90_500) }), now);
    expect(error.reason).toBe('token_expired');
    expect(error.description).toBe('Token expired 90 seconds ago');
    expect(unexpected).toBe(false);
  });

  it('TokenExpiredError without a date → token_expired 0 seconds', () => {
    const [error] = toAzureAuthError(libraryError('TokenExpiredError', 'jwt expired'), now);
    expect(error.reason).toBe('token_expired');
    expect(error.description).toContain('0 seconds');
  });

  it('NotBeforeError → token_not_yet_valid with the seconds until date', () => {
    const [error, unexpected] = toAzureAuthError(libraryError('NotBeforeError', 'jwt not active', { date: new Date(now + 120_200) }), now);
    expect(error.reason).toBe('token_not_yet_valid');
    expect(error.description).toBe('Token is not valid for another 121 seconds');
    expect(unexpected).toBe(false);
  });

  it.each([
    ['invalid signature', 'invalid_signature'],
    ['jwt malformed', 'malformed_token'],
    ['invalid algorithm', 'unsupported_algorithm'],
    ['jwt signature is required', 'malformed_token'],
    ['invalid exp value', 'invalid_claims'],
    ['invalid nbf value', 'invalid_claims'],
  ])('JsonWebTokenError %p → %s', (message, reason) => {
    const [error, unexpected] = toAzureAuthError(libraryError('JsonWebTokenError', message), now);
    expect(error.reason).toBe(reason);
    expect(unexpected).toBe(false);
  });

  it('passport-jwt "No auth token" → token_missing', () => {
    const [error, unexpected] = toAzureAuthError(new Error('No auth token'), now);
    expect(error.reason).toBe('token_missing');
    expect(error.status).toBe(401);
    expect(unexpected).toBe(false);
  });

  it('undefined → token_missing', () => {
    expect(toAzureAuthError(undefined, now)[0].reason).toBe('token_missing');
  });

  it('passes an AzureAuthError through unchanged', () => {
    const original = AzureAuthErrors.graphToken('aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee');
    const [error, unexpected] = toAzureAuthError(original, now);
    expect(error).toBe(original);
    expect(unexpected).toBe(false);
  });

  it.each([
    ['a TypeError', new TypeError('cannot read properties of undefined')],
    ['a plain Error', new Error('socket hang up')],
    ['a string', 'boom'],
    ['null', null],
  ])('%s → token_rejected, flagged as unexpected', (_name, failure) => {
    const [error, unexpected] = toAzureAuthError(failure, now);
    expect(error).toBeInstanceOf(AzureAuthError);
    expect(error.reason).toBe('token_rejected');
    expect(error.status).toBe(401);
    expect(unexpected).toBe(true);
  });

  it('does not copy the library message into the description', () => {
    const [error] = toAzureAuthError(new Error('secret eyJhbGciOi...'), now);
    expect(error.description).not.toContain('eyJ');
  });
});
