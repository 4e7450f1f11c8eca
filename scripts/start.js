// `npm start`: builds the web UI once if it is missing, then runs the portal on its embedded defaults.
const { existsSync } = require('node:fs');
const { execSync } = require('node:child_process');
const { join } = require('node:path');

const root = join(__dirname, '..');
if (!existsSync(join(root, 'dist/portal/web/browser/index.html'))) {
  process.stdout.write('Building the web UI (first start only)...\n');
  execSync('npx nx run web:build', { cwd: root, stdio: 'inherit', env: { ...process.env, NX_DAEMON: 'false' } });
}
require('./register');
require('../portal/api/src/main.ts');
