import { Controller, Get, UseGuards, type INestApplication } from '@nestjs/common';
import {
  AzureAuthGuard,
  AzureAuthModule,
  AzurePassportAuthGuard,
  AzurePermissionsGuard,
  AzureUser,
  type AzureAuthModuleOptions,
  type AzurePrincipal,
} from 'nestjs-azure-auth';
import { ProbeController, ProbeRoutes, startApp, type Adapter } from './test-app.js';

/** The whole caller, claims included (the probe's `/api/me` leaves them out), so two paths can be compared claim by claim. */
class CallerRoute {
  @Get('caller')
  caller(@AzureUser() user: AzurePrincipal) {
    return user;
  }
}

/** The pairing the README offers instead of `AzureAuthGuard`: passport authenticates, our guard authorizes. */
const viaPassport = UseGuards(AzurePassportAuthGuard, AzurePermissionsGuard);

/** The probe routes behind `AzurePassportAuthGuard` and `AzurePermissionsGuard`. */
@viaPassport
@Controller('api')
export class PassportProbeController extends ProbeRoutes {}

@viaPassport
@Controller('api')
class PassportCallerController extends CallerRoute {}

@UseGuards(AzureAuthGuard)
@Controller('api')
class GuardCallerController extends CallerRoute {}

export interface StartedApp {
  app: INestApplication;
  url: string;
}

/** The same options served by both paths: `guard` is the probe app (plus `/api/caller`), `passport` the passport pairing. */
export interface AppPair {
  guard: StartedApp;
  passport: StartedApp;
  close(): Promise<void>;
}

/** Starts the probe app and its passport twin on the same options. */
export async function startAppPair(adapter: Adapter, options: AzureAuthModuleOptions): Promise<AppPair> {
  const guard = await startApp(adapter, { imports: [AzureAuthModule.forRoot(options)], controllers: [ProbeController, GuardCallerController] });
  const started = await startApp(adapter, { imports: [AzureAuthModule.forRoot(options)], controllers: [PassportProbeController, PassportCallerController] });
  return {
    guard,
    passport: started,
    close: async () => {
      await guard.app.close();
      await started.app.close();
    },
  };
}
