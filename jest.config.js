// Tests are TypeScript compiled by `tsc --build` (see docs/development.md); jest runs the output.
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/jepsen-lite'],
  testMatch: ['**/dist/test/**/*.test.js'],
  testTimeout: 60000,
  // CI runs test files one at a time: they start servers and shards, and in parallel they
  // compete for the two cores (timeouts) and for ports.
  maxWorkers: process.env.CI ? 1 : 2,
};
