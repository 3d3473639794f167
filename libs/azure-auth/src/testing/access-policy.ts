import { isLoopbackHost } from '../shared/urls.js';

/**
 * Who may use the emulator besides this machine's own pages and programs, once validated.
 *
 * @internal
 */
export interface AccessPolicySettings {
  /** The host name of the emulator's `authorityHost`: every URL it hands out names it. */
  readonly authorityHostname: string;
  /** Further `Host` names to serve, lower case, as a URL spells them. */
  readonly allowedHosts: readonly string[];
  /** Further browser origins to answer cross-origin, serialized as browsers send them. */
  readonly allowedOrigins: readonly string[];
  /** Further redirect URIs of the sign-in endpoints, normalized as URLs. */
  readonly redirectUris: readonly string[];
  /** Every application (client) id the sign-in endpoints serve, lower case. */
  readonly clientIds: readonly string[];
}

function isWebUrl(url: URL): boolean {
  return url.protocol === 'http:' || url.protocol === 'https:';
}

function isLoopbackUrl(url: URL): boolean {
  return isWebUrl(url) && isLoopbackHost(url.hostname);
}

/**
 * The host name a `Host` header names, as a URL spells it (lower case, IPv6 in brackets), or
 * undefined when the header is more than `host[:port]`: `evil.example@127.0.0.1` must not pass
 * for loopback.
 *
 * @internal
 */
export function hostnameOf(host: string | undefined): string | undefined {
  if (host === undefined || /[\s/\\@?#]/.test(host)) {
    return undefined;
  }
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return undefined;
  }
}

/**
 * An http(s) origin, `scheme://host[:port]` and nothing more, or undefined.
 *
 * @internal
 */
export function parseOrigin(value: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  const bare = !url.username && !url.password && url.pathname === '/' && !url.search && !url.hash;
  return bare && isWebUrl(url) ? url : undefined;
}

/**
 * A redirect URI Entra would take for a SPA: an absolute http(s) URL without fragment, or undefined.
 *
 * @internal
 */
export function parseRedirectUri(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return isWebUrl(url) && url.hash === '' ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whom the emulator answers. It signs tokens for anyone who asks, so a web page the developer
 * visits must not be able to ask: requests must name a loopback host (a rebound DNS name is
 * refused), browsers may read answers from loopback origins only, and sign-in redirects only to
 * loopback redirect URIs of known clients. Each rule also takes what the options add.
 *
 * @internal
 */
export class AccessPolicy {
  private readonly hosts: ReadonlySet<string>;
  private readonly origins: ReadonlySet<string>;
  private readonly redirectUris: ReadonlySet<string>;
  private readonly clientIds: ReadonlySet<string>;

  constructor(settings: AccessPolicySettings) {
    this.hosts = new Set([settings.authorityHostname, ...settings.allowedHosts]);
    this.origins = new Set(settings.allowedOrigins);
    this.redirectUris = new Set(settings.redirectUris);
    this.clientIds = new Set(settings.clientIds);
  }

  /** Whether a request with this `Host` header is for the emulator, any port. */
  servesHost(host: string | undefined): boolean {
    const hostname = hostnameOf(host);
    return hostname !== undefined && (isLoopbackHost(hostname) || this.hosts.has(hostname));
  }

  /** Whether a page of this origin may read the emulator's answers. */
  allowsOrigin(origin: string): boolean {
    const url = parseOrigin(origin);
    return url !== undefined && (isLoopbackUrl(url) || this.origins.has(url.origin));
  }

  /** The CORS headers of an answer: the origin reflected when allowed, never `*`. */
  corsHeaders(origin: string | undefined): Record<string, string> {
    // Caches must not hand one origin's answer to another.
    return origin !== undefined && this.allowsOrigin(origin) ? { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' } : { Vary: 'Origin' };
  }

  /** Loopback redirect URIs take any port and path, as Entra's do; configured ones must match exactly. */
  acceptsRedirectUri(redirectUri: URL): boolean {
    return isLoopbackUrl(redirectUri) || this.redirectUris.has(redirectUri.href);
  }

  /** Client ids are GUIDs, which Entra compares without case. */
  knowsClient(clientId: string): boolean {
    return this.clientIds.has(clientId.toLowerCase());
  }
}
