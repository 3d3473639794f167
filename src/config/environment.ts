/** The environment as `process.env` gives it; only the variables the config files name are read. */
export type AppEnvironment = Readonly<Record<string, string | undefined>>;

/** A configuration the app refuses to start with; the message names the variable to fix. */
export class AppConfigError extends Error {
  override readonly name = 'AppConfigError';
}
