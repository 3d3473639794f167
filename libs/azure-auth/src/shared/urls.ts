import { DEFAULT_AUTHORITY_HOST } from '../azure-auth.constants.js';
import { AzureAuthConfigurationError } from '../errors/azure-auth-configuration.error.js';

const LOOPBACK_HOST = /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])$/;

/** A URL hostname on this machine: where plain http is safe and no proxy ever applies. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOST.test(hostname);
}

/** Parses a URL that keys or metadata may come from: https, or http on a loopback host only. */
export function parseSecureUrl(value: unknown, option: string): URL {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new AzureAuthConfigurationError(option, `is not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new AzureAuthConfigurationError(option, 'must use https:// (http:// is allowed only for a loopback host such as the local emulator)');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new AzureAuthConfigurationError(option, 'must be an https:// URL');
  }
  if (url.username || url.password) {
    throw new AzureAuthConfigurationError(option, 'must not carry credentials');
  }
  return url;
}

/** An authority host as an origin (scheme and host only); the public cloud's when not given. */
export function normalizeAuthorityHost(value: unknown, option = 'authorityHost'): string {
  if (value === undefined) return DEFAULT_AUTHORITY_HOST;
  const url = parseSecureUrl(value, option);
  if (url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
    throw new AzureAuthConfigurationError(option, 'must be a scheme and host only, e.g. https://login.microsoftonline.com');
  }
  return url.origin;
}
