'use strict';
// The emulator from the packed package, by require() of the nestjs-azure-auth/testing subpath.
const { EntraEmulator } = require('nestjs-azure-auth/testing');

async function main() {
  const entra = await EntraEmulator.start();
  const mint = (options) => entra.mintAccessToken(options);
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
}
main().catch((error) => {
  console.error(error);
  process.exit(1);
});
