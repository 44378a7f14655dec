// Until the root jest.config.js lists jepsen-lite in its roots: npx jest -c jepsen-lite/jest.config.js
module.exports = {
  testEnvironment: 'node',
  rootDir: __dirname,
  roots: ['<rootDir>'],
  testMatch: ['**/dist/test/**/*.test.js'],
  testTimeout: 180000,
  maxWorkers: 1,
};
