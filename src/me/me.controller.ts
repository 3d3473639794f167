import { BadGatewayException, Controller, Get } from '@nestjs/common';
import { AzureCaller, AzureDownstreamApi, AzureUser, type AzurePrincipal } from 'nestjs-azure-auth';

/** What the API understood of the caller's token: the first thing to check when a call is refused. */
export interface MeResponse {
  oid: string;
  tid: string;
  scopes: readonly string[];
  roles: readonly string[];
  appOnly: boolean;
  tokenVersion: AzurePrincipal['tokenVersion'];
}

/** The signed-in user as Microsoft Graph knows them. */
export interface ProfileResponse {
  displayName: string | null;
  mail: string | null;
  userPrincipalName: string | null;
}

/** Open to any valid token: no decorator asks for a permission. */
@Controller('api/me')
export class MeController {
  constructor(private readonly downstream: AzureDownstreamApi) {}

  @Get()
  me(@AzureUser() caller: AzurePrincipal): MeResponse {
    const { oid, tid, scopes, roles, appOnly, tokenVersion } = caller;
    return { oid, tid, scopes, roles, appOnly, tokenVersion };
  }

  /**
   * Microsoft Graph's `/v1.0/me`, called on behalf of the caller: the API needs its own credential
   * and the delegated Graph permission User.Read. An app-only caller gets 403 (no user to act for).
   */
  @Get('profile')
  async profile(@AzureCaller() caller: AzureCaller): Promise<ProfileResponse> {
    const answer = await this.downstream.fetch(caller, '/v1.0/me', { scopes: ['User.Read'] });
    const body = (await answer.json().catch(() => ({}))) as { displayName?: string; mail?: string; userPrincipalName?: string; error?: { code?: string } };
    if (!answer.ok) {
      throw new BadGatewayException({ message: `Microsoft Graph answered ${answer.status}`, graphError: body.error?.code ?? null });
    }
    return { displayName: body.displayName ?? null, mail: body.mail ?? null, userPrincipalName: body.userPrincipalName ?? null };
  }
}
