import type { Agent } from 'node:http';
import type { Logger } from '@nestjs/common';
import type * as Msal from '@azure/msal-node';
import { AzureAuthConfigurationError } from '../errors/azure-auth-configuration.error.js';
import type { ResolvedClientCredential } from './client-credential.js';
import { HttpExchangeError, httpExchange } from '../shared/http-exchange.js';
import type { TenantEndpoints } from './tenant-endpoints.js';

/** `@azure/msal-node` as loaded. @internal */
export type MsalNode = typeof Msal;

/** The error code our network client gives MSAL when Entra cannot be reached or is unwell. @internal */
export const TOKEN_ENDPOINT_UNAVAILABLE = 'token_endpoint_unavailable';

/** Token endpoint answers are small JSON documents. */
const MAX_TOKEN_ANSWER_BYTES = 1_048_576;

/**
 * Loads the optional peer `@azure/msal-node`, once, when a credential is configured: an API that
 * calls nothing downstream never needs it installed.
 *
 * @internal
 */
export async function loadMsalNode(): Promise<MsalNode> {
  try {
    return await import('@azure/msal-node');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new AzureAuthConfigurationError(
        'clientCredential',
        'is set, and downstream calls need the package @azure/msal-node, an optional peer dependency of nestjs-azure-auth: npm install @azure/msal-node',
      );
    }
    throw error;
  }
}

/** Where MSAL's requests go through: the module's agent for the URL, and its HTTP timeout. @internal */
export interface MsalTransport {
  readonly agentFor: (url: string) => Agent | undefined;
  readonly timeoutMs: number;
}

function headerRecord(headers: NodeJS.Dict<string | string[]>): Record<string, string> {
  const record: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) record[name] = Array.isArray(value) ? value.join(', ') : value;
  return record;
}

/**
 * MSAL's network client: the module's agent and HTTP timeout, Node's own certificate checks. An
 * outage (no answer in time, a 5xx or a 429) is reported as an `AuthError` of code
 * {@link TOKEN_ENDPOINT_UNAVAILABLE}, which MSAL passes through unchanged (and does not record as
 * a throttling of its own), with Entra's `Retry-After` when it sent one.
 */
function networkClient(msal: MsalNode, transport: MsalTransport): Msal.INetworkModule {
  const send = async <T>(method: 'GET' | 'POST', url: string, options: Msal.NetworkRequestOptions | undefined): Promise<Msal.NetworkResponse<T>> => {
    const target = new URL(url);
    let answer;
    try {
      answer = await httpExchange(target, {
        method,
        headers: options?.headers ?? {},
        body: options?.body,
        agent: transport.agentFor(url),
        timeoutMs: transport.timeoutMs,
        maxResponseBytes: MAX_TOKEN_ANSWER_BYTES,
      });
    } catch (error) {
      throw unavailable(msal, error instanceof HttpExchangeError ? error.message : 'the request failed', undefined);
    }
    const headers = headerRecord(answer.headers);
    if (answer.status >= 500 || answer.status === 429) {
      const retryAfter = Number(headers['retry-after']);
      throw unavailable(msal, `HTTP ${answer.status} from ${target.origin}${target.pathname}`, Number.isInteger(retryAfter) && retryAfter > 0 ? retryAfter : undefined);
    }
    let body: T;
    try {
      body = JSON.parse(answer.body.toString('utf8')) as T;
    } catch {
      throw new msal.AuthError('invalid_token_endpoint_answer', `HTTP ${answer.status} from ${target.origin}${target.pathname} is not JSON`);
    }
    return { status: answer.status, headers, body };
  };
  return {
    sendGetRequestAsync: (url, options) => send('GET', url, options),
    sendPostRequestAsync: (url, options) => send('POST', url, options),
  };
}

function unavailable(msal: MsalNode, problem: string, retryAfterSeconds: number | undefined): Msal.AuthError {
  return Object.assign(new msal.AuthError(TOKEN_ENDPOINT_UNAVAILABLE, problem), { retryAfterSeconds });
}

/** What a confidential client of one tenant is made of. @internal */
export interface MsalClientSettings {
  readonly clientId: string;
  readonly credential: ResolvedClientCredential;
  readonly endpoints: TenantEndpoints;
  readonly transport: MsalTransport;
  readonly logger: Logger;
}

/**
 * A confidential client for one tenant, told its endpoints up front (no instance discovery, no
 * metadata fetch of its own), declaring the `cp1` capability (this module hands continuous access
 * evaluation challenges back to the caller), logging without personal data.
 *
 * @internal
 */
export function createConfidentialClient(msal: MsalNode, settings: MsalClientSettings): Msal.ConfidentialClientApplication {
  const { endpoints, logger } = settings;
  const { clientSecret, clientCertificate, clientAssertion } = settings.credential.msalCredentialFields();
  return new msal.ConfidentialClientApplication({
    auth: {
      clientId: settings.clientId,
      authority: endpoints.authority,
      knownAuthorities: [new URL(endpoints.authority).host],
      authorityMetadata: endpoints.authorityMetadata,
      clientCapabilities: ['cp1'],
      ...(clientAssertion
        ? { clientAssertion: async (config: Parameters<Msal.ClientAssertionCallback>[0]) => clientAssertion({ clientId: config.clientId, tokenEndpoint: config.tokenEndpoint ?? endpoints.tokenEndpoint }) }
        : { clientSecret, clientCertificate }),
    },
    system: {
      networkClient: networkClient(msal, settings.transport),
      loggerOptions: {
        piiLoggingEnabled: false,
        logLevel: msal.LogLevel.Warning,
        loggerCallback: (_level, message) => logger.debug(`MSAL: ${message}`),
      },
    },
  });
}
