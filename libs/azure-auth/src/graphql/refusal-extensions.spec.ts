import { GraphQLError } from 'graphql';
import { AzureAuthException } from '../errors/azure-auth.exception.js';
import { AzureAuthErrors } from '../errors/messages.js';
import { azureAuthGraphqlErrors } from './refusal-extensions.js';

/** A GraphQL error as graphql-js serializes it, wrapping what a resolver threw. */
function graphqlError(originalError: unknown, extensions?: Record<string, unknown>) {
  return { originalError, toJSON: () => ({ message: 'resolver failed', path: ['me'], ...(extensions ? { extensions } : {}) }) };
}

describe('azureAuthGraphqlErrors', () => {
  it('leaves results without refusals to the transport (undefined)', () => {
    expect(azureAuthGraphqlErrors(undefined)).toBeUndefined();
    expect(azureAuthGraphqlErrors([graphqlError(new Error('other'))])).toBeUndefined();
  });

  it.each([
    [AzureAuthErrors.tokenMissing(), 'UNAUTHENTICATED', 401, 'token_missing'],
    [AzureAuthErrors.insufficientPermissions('scope', ['Todolist.Read']), 'FORBIDDEN', 403, 'insufficient_permissions'],
    [AzureAuthErrors.keysUnavailable(30), 'SERVICE_UNAVAILABLE', 503, 'keys_unavailable'],
  ])('gives a refusal its code and body (%#)', (error, code, statusCode, reason) => {
    const [serialized] = azureAuthGraphqlErrors([graphqlError(new AzureAuthException(error), { kept: true })])!;
    expect(serialized).toEqual({
      message: 'resolver failed',
      path: ['me'],
      extensions: { kept: true, code, originalError: expect.objectContaining({ statusCode, reason }) },
    });
  });

  it('serializes the other errors of the same result as they are', () => {
    const errors = azureAuthGraphqlErrors([graphqlError(new AzureAuthException(AzureAuthErrors.tokenMissing())), graphqlError(new Error('other'))])!;
    expect(errors[1]).toEqual({ message: 'resolver failed', path: ['me'] });
  });

  it('needs no formatter where graphql-js builds the error: a refusal carries its own extensions', () => {
    const refusal = new AzureAuthException(AzureAuthErrors.insufficientPermissions('scope', ['Todolist.Read']));
    expect(new GraphQLError('refused', { originalError: refusal }).toJSON().extensions).toEqual({
      code: 'FORBIDDEN',
      originalError: expect.objectContaining({ statusCode: 403, reason: 'insufficient_permissions', required: ['Todolist.Read'] }),
    });
  });
});
