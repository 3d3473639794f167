import { AzureAuthError } from './azure-auth.error.js';
import { AzureAuthErrors } from './messages.js';
import { toAzureAuthError } from './to-azure-auth-error.js';

describe('toAzureAuthError', () => {
  it('passport-jwt "No auth token" → token_missing', () => {
    const [error, unexpected] = toAzureAuthError(new Error('No auth token'));
    expect(error.reason).toBe('token_missing');
    expect(error.status).toBe(401);
    expect(unexpected).toBe(false);
  });

  it('undefined → token_missing', () => {
    expect(toAzureAuthError(undefined)[0].reason).toBe('token_missing');
  });

  it('passes an AzureAuthError through unchanged', () => {
    const original = AzureAuthErrors.graphToken('aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee');
    const [error, unexpected] = toAzureAuthError(original);
    expect(error).toBe(original);
    expect(unexpected).toBe(false);
  });

  it.each([
    ['a TypeError', new TypeError('cannot read properties of undefined')],
    ['a plain Error', new Error('socket hang up')],
    ['a string', 'boom'],
    ['null', null],
    // The strategy hands every token to the verifier: jsonwebtoken's errors never reach a refusal.
    ['an error named as jsonwebtoken names them', Object.assign(new Error('invalid signature'), { name: 'JsonWebTokenError' })],
  ])('%s → token_rejected, flagged as unexpected', (_name, failure) => {
    const [error, unexpected] = toAzureAuthError(failure);
    expect(error).toBeInstanceOf(AzureAuthError);
    expect(error.reason).toBe('token_rejected');
    expect(error.status).toBe(401);
    expect(unexpected).toBe(true);
  });

  it('does not copy the library message into the description', () => {
    const [error] = toAzureAuthError(new Error('secret eyJhbGciOi...'));
    expect(error.description).not.toContain('eyJ');
  });
});
