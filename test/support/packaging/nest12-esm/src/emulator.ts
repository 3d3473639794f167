// The emulator from the packed package (nestjs-azure-auth/testing), so its export map is what is tested.
import { EntraEmulator, type MintOptions } from 'nestjs-azure-auth/testing';

const entra = await EntraEmulator.start();
const mint = (options: MintOptions): string => entra.mintAccessToken(options);
console.log(
  JSON.stringify({
    authorityHost: entra.authorityHost,
    tenantId: entra.tenantId,
    clientId: entra.clientId,
    tokens: {
      valid: mint({ scopes: ['Todolist.Read'] }),
      expired: mint({ scopes: ['Todolist.Read'], expiresInSeconds: -600 }),
      withoutScope: mint({ scopes: ['Other.Scope'] }),
    },
  }),
);
// Runs until the test closes stdin.
process.stdin.resume();
process.stdin.on('end', () => void entra.stop());
