// Bundles the agent into one file (dist/agent/baton-agent.js) with its only dependencies: the NATS client and shared.
const { build } = require('esbuild');

build({
  entryPoints: [`${__dirname}/src/main.ts`],
  bundle: true,
  platform: 'node',
  target: 'node20',
  outfile: `${__dirname}/../dist/agent/baton-agent.js`,
  banner: { js: '#!/usr/bin/env node' },
  tsconfig: `${__dirname}/../tsconfig.base.json`,
  minify: false,
  sourcemap: true,
  logLevel: 'info',
}).catch(() => process.exit(1));
