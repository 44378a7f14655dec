// Tests are TypeScript compiled by `tsc --build` (see docs/development.md); jest runs the output.
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/jepsen-lite'],
  testMatch: ['**/dist/test/**/*.test.js'],
  testTimeout: 60000,
  maxWorkers: 2,
};
