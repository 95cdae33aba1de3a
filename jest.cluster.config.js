/** The scale-out suite (`npm run test:cluster`): real logway processes against the 3-broker Kafka of `scripts/stack cluster`. */
module.exports = {
  testTimeout: 240000,
  testSequencer: '<rootDir>/spec/helpers/shuffle-sequencer.mjs',
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', {}] },
  testMatch: ['<rootDir>/spec/cluster/**/*.spec.ts'],
  globalSetup: '<rootDir>/spec/cluster/helpers/global-setup.ts',
};
