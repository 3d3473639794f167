/**
 * Validates the names given to a permission decorator at definition time, so a typo such as an
 * empty string fails when the app starts rather than locking a route silently.
 * @internal
 */
export function permissionNames(decorator: string, names: readonly string[]): readonly string[] {
  if (names.length === 0) throw new TypeError(`@${decorator}() needs at least one name`);
  for (const name of names) {
    if (typeof name !== 'string' || name.length === 0 || /\s/.test(name)) {
      throw new TypeError(`@${decorator}(): ${JSON.stringify(name)} is not a permission name (non-empty, no spaces)`);
    }
  }
  return Object.freeze([...names]);
}
