/** Two projects: unit (pure logic, no services) and integration (the real local stack, started once per run). */
const tsJest = ['ts-jest', {}];
module.exports = {
  // A per-project testTimeout is ignored by jest 29; integration tests talk to real services.
  testTimeout: 60000,
  // JEST_SHUFFLE_SEED=<integer>: the test files in a seeded shuffle, to show order dependencies.
  testSequencer: '<rootDir>/spec/helpers/shuffle-sequencer.mjs',
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/spec/unit/**/*.spec.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/spec/integration/**/*.spec.ts'],
      globalSetup: '<rootDir>/spec/helpers/global-setup.ts',
    },
  ],
};
