// `npm run test:browser`: the tests that drive a real Chromium, with the suite's own settings
// (package.json "jest", which leaves this folder out of `npm test`).
import { readFileSync } from 'node:fs';
import { URL } from 'node:url';

const { jest: suite } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

export default {
  ...suite,
  rootDir: '../..',
  testMatch: ['<rootDir>/test/browser/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  // A page load, a 3-second wait for a token to expire and the clicks that follow.
  testTimeout: 60000,
};
