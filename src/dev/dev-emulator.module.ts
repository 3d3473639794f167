import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { Agent } from 'node:https';
import type { EntraEmulator } from 'nestjs-azure-auth/testing';

const DEV_ENTRA_EMULATOR = 'SAMPLE:DEV_ENTRA_EMULATOR';
const DEV_EMULATOR_AGENT = 'SAMPLE:DEV_EMULATOR_AGENT';

@Injectable()
class EmulatorShutdown implements OnApplicationShutdown {
  constructor(
    @Inject(DEV_ENTRA_EMULATOR) private readonly entra: EntraEmulator,
    @Inject(DEV_EMULATOR_AGENT) private readonly agent: Agent,
  ) {}

  onApplicationShutdown(): Promise<void> {
    this.agent.destroy();
    return this.entra.stop();
  }
}

/** Ties the dev-mode emulator's life to the app's: closing the app stops it. */
@Module({})
export class DevEmulatorModule {
  static forEmulator(entra: EntraEmulator, agent: Agent): DynamicModule {
    return {
      module: DevEmulatorModule,
      providers: [{ provide: DEV_ENTRA_EMULATOR, useValue: entra }, { provide: DEV_EMULATOR_AGENT, useValue: agent }, EmulatorShutdown],
    };
  }
}
