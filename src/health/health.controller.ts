import { Controller, Get } from '@nestjs/common';
import { Public } from 'nestjs-azure-auth';

/** Liveness for load balancers and orchestrators, which call without a token. */
@Controller('health')
export class HealthController {
  @Public()
  @Get()
  check(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
