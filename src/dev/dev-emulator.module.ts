import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { EntraEmulator } from 'nestjs-azure-auth/testing';

const DEV_ENTRA_EMULATOR = 'SAMPLE:DEV_ENTRA_EMULATOR';

@Injectable()
class EmulatorShutdown implements OnApplicationShutdown {
  constructor(@Inject(DEV_ENTRA_EMULATOR) private readonly entra: EntraEmulator) {}

  onApplicationShutdown(): Promise<void> {
    return this.entra.stop();
  }
}

/** Ties the dev-mode emulator's life to the app's: closing the app stops it. */
@Module({})
export class DevEmulatorModule {
  static forEmulator(entra: EntraEmulator): DynamicModule {
    return {
      module: DevEmulatorModule,
      providers: [{ provide: DEV_ENTRA_EMULATOR, useValue: entra }, EmulatorShutdown],
    };
  }
}
