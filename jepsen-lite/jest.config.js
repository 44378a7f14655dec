// jepsen-lite alone: npx jest -c jepsen-lite/jest.config.js (the root jest.config.js runs these tests too, as part of npm test)
module.exports = {
  testEnvironment: 'node',
  rootDir: __dirname,
  roots: ['<rootDir>'],
  testMatch: ['**/dist/test/**/*.test.js'],
  testTimeout: 180000,
  maxWorkers: 1,
};
