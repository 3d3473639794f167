/** Thrown at module start when an option is wrong; the message names the option. */
export class AzureAuthConfigurationError extends Error {
  override readonly name = 'AzureAuthConfigurationError';
  constructor(
    readonly option: string,
    readonly problem: string,
  ) {
    super(`AzureAuthModule: option "${option}" ${problem}`);
  }
}
