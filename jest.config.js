/** Jest runs ESM here: Nest 12 is ESM-only (see DEVELOPERS.md / README "Testing"). */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  rootDir: '.',
  roots: ['<rootDir>/libs/azure-auth/src', '<rootDir>/src', '<rootDir>/test'],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.json' }],
  },
  moduleNameMapper: {
    '^nestjs-azure-auth$': '<rootDir>/libs/azure-auth/src/index.ts',
    '^nestjs-azure-auth/testing$': '<rootDir>/libs/azure-auth/src/testing/index.ts',
    '^nestjs-azure-auth/swagger$': '<rootDir>/libs/azure-auth/src/swagger/index.ts',
    '^nestjs-azure-auth/health$': '<rootDir>/libs/azure-auth/src/health/index.ts',
    // @fastify/static (required by Mercurius) nests an ESM-only content-disposition that Jest's
    // CommonJS loader cannot require on Node 20; the CommonJS copy at the root has the same API.
    '^content-disposition$': '<rootDir>/node_modules/content-disposition/dist/index.js',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testTimeout: 30000,
  reporters: ['default', '<rootDir>/test/support/totals-reporter.cjs'],
};
