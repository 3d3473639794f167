/**
 * The fixed identities the emulator uses when a test does not name its own. They are constants,
 * not random, so that a dev-mode configuration file or a snapshot can hard-code them. None of them
 * exists in any real Entra tenant.
 */
export const ENTRA_EMULATOR_DEFAULTS = Object.freeze({
  /** The emulator's own tenant (`tid`). */
  tenantId: '6f1e2c3d-4b5a-4978-8c6d-5e4f3a2b1c0d',
  /** The protected API's application (client) id: the `aud` of v2 tokens, `api://{clientId}` in v1. */
  clientId: 'a3f5c8e1-2b4d-4f6a-9c8e-1d2b3c4d5e6f',
  /** The calling application (SPA or daemon): `azp` in v2 tokens, `appid` in v1. */
  clientAppId: 'c4d2b1a0-9e8f-47a6-b5c4-d3e2f1a0b9c8',
  /** `oid` of the signed-in user of delegated (`user` and `guest`) tokens. */
  userObjectId: '0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a',
  /** `oid` (and `sub`) of the calling application's service principal in app-only tokens. */
  appObjectId: 'e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b',
  /** Home tenant of guest users: their `idp` is this tenant's v1 issuer. */
  guestHomeTenantId: '72b3f1c4-5d6e-4f70-8a1b-2c3d4e5f6a7b',
  /** Loopback only: the emulator signs tokens for anyone who asks and must never face a network. */
  host: '127.0.0.1',
  /** Host of v1 issuers, as in Entra's public cloud. */
  v1IssuerHost: 'https://sts.windows.net',
  /** Name of the emulated Azure AD B2C tenant: its domain is `{b2cTenantName}.onmicrosoft.com`. */
  b2cTenantName: 'contoso',
  /**
   * Subject of the federated credential the API's registration trusts (workload identity: a
   * Kubernetes service account), in tokens of {@link EntraEmulator.mintFederatedToken}.
   */
  federatedSubject: 'system:serviceaccount:default:nestjs-azure-auth',
});

/** The audience Entra requires of a federated token exchanged for an application's own token. */
export const FEDERATED_TOKEN_AUDIENCE = 'api://AzureADTokenExchange';

export { CONSUMERS_TENANT_ID } from '../azure-auth.constants.js';

/** The literal placeholder Entra writes in multi-tenant issuers, to be filled with a token's `tid`. */
export const TENANT_ID_TEMPLATE = '{tenantid}';

/** `{authorityHost}/{tenantId}/v2.0`; with {@link TENANT_ID_TEMPLATE} it is the multi-tenant template. */
export function formatV2Issuer(authorityHost: string, tenantId: string): string {
  return `${authorityHost}/${tenantId}/v2.0`;
}

/**
 * Puts a tenant id in every `{tenantid}` of an issuer template. Every one: External ID issuers
 * name the tenant twice (`https://{tenantid}.ciamlogin.com/{tenantid}/v2.0`). Filling with
 * {@link TENANT_ID_TEMPLATE} gives the template back, which is what multi-tenant metadata shows.
 */
export function fillTenantTemplate(template: string, tenantId: string): string {
  return template.split(TENANT_ID_TEMPLATE).join(tenantId);
}

/** `{authorityHost}/{tenantId}/v2.0/`: B2C's issuer keeps a trailing slash, unlike Entra's v2 issuer. */
export function formatB2cIssuer(authorityHost: string, tenantId: string): string {
  return `${authorityHost}/${tenantId}/v2.0/`;
}

/** `{v1IssuerHost}/{tenantId}/`: the trailing slash is part of Entra's v1 issuer. */
export function formatV1Issuer(v1IssuerHost: string, tenantId: string): string {
  return `${v1IssuerHost}/${tenantId}/`;
}
