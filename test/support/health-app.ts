import { Controller, Get, type ModuleMetadata } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { AzureAuthModule, Public, type AzureAuthModuleOptions } from 'nestjs-azure-auth';
import { AzureAuthHealthIndicator } from 'nestjs-azure-auth/health';
import { ProbeController } from './test-app.js';

/** `GET /health` with the module's indicator, as README shows it. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly azureAuth: AzureAuthHealthIndicator,
  ) {}

  // Public so that the probe keeps working when AzureAuthGuard is the global guard.
  @Public()
  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.azureAuth.isHealthy()]);
  }
}

/** The probe routes and `/health` on these options. */
export function healthAppModule(options: AzureAuthModuleOptions): ModuleMetadata {
  return {
    imports: [TerminusModule.forRoot({ logger: false }), AzureAuthModule.forRoot(options)],
    controllers: [ProbeController, HealthController],
    providers: [AzureAuthHealthIndicator],
  };
}
