const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A GUID in Entra's spelling (tenant ids, client ids, object ids), in any letter case. */
export function isGuid(value: unknown): value is string {
  return typeof value === 'string' && GUID.test(value);
}
