import { isGuid } from '../shared/guid.js';

/** The placeholder Entra's multi-tenant metadata and v2 keys put where the tenant id belongs. */
export const TENANT_PLACEHOLDER = '{tenantid}';

/**
 * The issuer a token of tenant `tid` must carry, given an issuer from metadata that may be a
 * template. `undefined` when a template cannot be filled (no usable `tid`).
 */
export function fillIssuer(template: string, tid: unknown): string | undefined {
  if (!template.includes(TENANT_PLACEHOLDER)) return template;
  // Templates come from metadata and key sets (a handful); each remembers its last tenant.
  const last = lastFilled.get(template);
  if (last !== undefined && last.tid === tid) return last.issuer;
  if (!isGuid(tid)) return undefined;
  // External ID names the tenant twice: https://{tenantid}.ciamlogin.com/{tenantid}/v2.0
  const issuer = template.replaceAll(TENANT_PLACEHOLDER, tid.toLowerCase());
  lastFilled.set(template, { tid, issuer });
  return issuer;
}

const lastFilled = new Map<string, { readonly tid: string; readonly issuer: string }>();

/** Tokens of one API mostly share an issuer: the last answer is kept. */
let lastIssuer = '';
let lastTenant: string | undefined;

/** The tenant GUID written in an issuer, if any (Entra issuers carry it as one path segment). */
export function tenantOfIssuer(issuer: string): string | undefined {
  if (issuer !== lastIssuer) {
    lastTenant = issuer.split('/').find((segment) => isGuid(segment))?.toLowerCase();
    lastIssuer = issuer;
  }
  return lastTenant;
}
