/** Starts the portal: `npm start`. Configuration comes from the environment (see README.md). */
import 'reflect-metadata';
import { createApp } from './app';
import { parseConfig } from './core/config';

async function main(): Promise<void> {
  const config = parseConfig(process.env);
  const app = await createApp(config);
  await app.listen(config.port);
  process.stdout.write(`Baton portal listening on http://localhost:${config.port} (API docs at /api/docs)\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`baton: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
