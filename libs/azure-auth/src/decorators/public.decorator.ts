import { Reflector } from '@nestjs/core';
import { IS_PUBLIC_KEY } from '../azure-auth.constants.js';

/** @internal */
export const PublicMetadata = Reflector.createDecorator<void, true>({ key: IS_PUBLIC_KEY, transform: () => true });

/**
 * Opens a route (or a whole controller) to callers without a token when `AzureAuthGuard` is
 * global. Skips authentication and authorization both.
 *
 * @example
 * ```ts
 * @Public()
 * @Get('health')
 * health() { return { status: 'ok' }; }
 * ```
 */
export const Public = (): ClassDecorator & MethodDecorator => PublicMetadata();
