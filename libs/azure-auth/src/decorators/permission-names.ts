/** What a requirement decorator accepts: the word for one value, the phrase for a valid one, and the test. */
interface DecoratorValueKind {
  readonly one: string;
  readonly valid: string;
  readonly test: (value: string) => boolean;
}

/**
 * Validates the values given to a requirement decorator at definition time, so a typo such as an
 * empty string fails when the app starts rather than locking a route silently.
 * @internal
 */
export function decoratorValues(decorator: string, values: readonly string[], kind: DecoratorValueKind): readonly string[] {
  if (values.length === 0) throw new TypeError(`@${decorator}() needs at least one ${kind.one}`);
  for (const value of values) {
    if (typeof value !== 'string' || !kind.test(value)) throw new TypeError(`@${decorator}(): ${JSON.stringify(value)} is not ${kind.valid}`);
  }
  return Object.freeze([...values]);
}

const PERMISSION_NAME: DecoratorValueKind = { one: 'name', valid: 'a permission name (non-empty, no spaces)', test: (name) => name.length > 0 && !/\s/.test(name) };

/** The names of `@Scopes`, `@AppPermissions`, `@Roles`. @internal */
export function permissionNames(decorator: string, names: readonly string[]): readonly string[] {
  return decoratorValues(decorator, names, PERMISSION_NAME);
}
