// Runs TypeScript sources directly with SWC (decorator metadata and the @baton/* path aliases included).
const path = require('node:path');
process.env.SWC_NODE_PROJECT ??= path.join(__dirname, '..', 'tsconfig.base.json');
require('@swc-node/register');
