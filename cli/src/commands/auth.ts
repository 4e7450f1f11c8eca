/** `baton login|logout|whoami`: the session stored in ~/.config/baton/config.json. */
import type { Command } from 'commander';
import { login, logout } from '../api';
import type { Me } from '../api-types';
import { examples, type Context } from '../context';
import { CliError, EXIT } from '../exit-codes';
import { askPassword } from '../prompt';
import { configPath, normalizeUrl, SessionStore } from '../session';

export function registerAuthCommands(program: Command, ctx: Context): void {
  program
    .command('login')
    .description('log in with a user name and password; the session is stored (mode 0600) and refreshed')
    .option('--url <url>', 'the portal, e.g. https://baton.example.com (default: BATON_URL or the last one)')
    .option('-u, --user <name>', 'user name (default: the last one)')
    .addHelpText(
      'after',
      examples([
        ['baton login --url https://baton.example.com --user alice', 'asks for the password'],
        ['echo "$PASSWORD" | baton login --url http://localhost:3000 --user admin', 'password from stdin (CI)'],
      ]) + '\nScripts can skip login: set BATON_URL and BATON_TOKEN (an API token made in the portal).\n',
    )
    .action(async (options: { url?: string; user?: string }) => {
      const store = new SessionStore(configPath(ctx.env));
      const previous = await store.read().catch(() => undefined);
      const urlText = options.url ?? ctx.env.BATON_URL ?? previous?.url;
      const user = options.user ?? previous?.user;
      if (!urlText || !user) throw new CliError('say where and who: baton login --url URL --user NAME', EXIT.usage);
      const url = normalizeUrl(urlText);
      const password = await askPassword(`password for ${user} at ${url}: `);
      const session = await login(url, user, password);
      await store.write(session);
      ctx.printer.result({ url, user, config: store.path }, () => `logged in to ${url} as ${user} (session in ${store.path})`);
    });

  program
    .command('logout')
    .description('end the stored session on the portal and forget it')
    .action(async () => {
      const store = new SessionStore(configPath(ctx.env));
      const session = await store.read().catch(() => undefined);
      if (session) await logout(session).catch(() => undefined);
      await store.remove();
      ctx.printer.result({ loggedOut: session !== undefined }, () => (session ? `logged out of ${session.url}` : 'not logged in'));
    });

  program
    .command('whoami')
    .description('the user (or API token) the CLI acts as, and its roles')
    .action(async () => {
      const client = await ctx.client();
      const me = await client.get<Me>('/api/v1/auth/me');
      ctx.printer.result(me, () => `${me.username} at ${client.url}${me.tokenId ? ' (API token)' : ''}`);
    });
}
