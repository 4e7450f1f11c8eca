#!/usr/bin/env node
// `npx baton` (and `npm run baton --`) in the repository: the CLI from its TypeScript sources, always current.
// The one-file build that starts faster and runs anywhere with Node 20+ is dist/cli/baton (`npm run build:cli`).
require('../../scripts/register');
require('../src/main.ts');
