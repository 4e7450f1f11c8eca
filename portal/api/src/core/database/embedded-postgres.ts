/**
 * The embedded default database: PGlite (PostgreSQL compiled to WebAssembly) stored under the data directory and
 * served on a Unix socket, so that TypeORM talks to it through the same `pg` driver as to a real PostgreSQL.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

const SOCKET_PORT = 5432;

export class EmbeddedPostgres {
  private db?: PGlite;
  private server?: PGLiteSocketServer;

  constructor(private readonly dataDir: string) {}

  /** Starts the database and returns the directory of its socket (the `host` for `pg`). */
  async start(): Promise<{ socketDir: string; port: number }> {
    const socketDir = resolve(this.dataDir, 'run');
    mkdirSync(socketDir, { recursive: true });
    this.db = await PGlite.create(resolve(this.dataDir, 'pgdata'));
    this.server = new PGLiteSocketServer({ db: this.db, path: `${socketDir}/.s.PGSQL.${SOCKET_PORT}` });
    await this.server.start();
    return { socketDir, port: SOCKET_PORT };
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    await this.db?.close();
  }
}
