import { Controller, Get } from '@nestjs/common';
import { AzureUser, type AzurePrincipal } from 'nestjs-azure-auth';

/** What the API understood of the caller's token: the first thing to check when a call is refused. */
export interface MeResponse {
  oid: string;
  tid: string;
  scopes: readonly string[];
  roles: readonly string[];
  appOnly: boolean;
  tokenVersion: AzurePrincipal['tokenVersion'];
}

/** Open to any valid token: no decorator asks for a permission. */
@Controller('api/me')
export class MeController {
  @Get()
  me(@AzureUser() caller: AzurePrincipal): MeResponse {
    const { oid, tid, scopes, roles, appOnly, tokenVersion } = caller;
    return { oid, tid, scopes, roles, appOnly, tokenVersion };
  }
}
