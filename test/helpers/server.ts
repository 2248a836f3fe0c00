/**
 * Starts a real Junction server on a random loopback port, with its own data directory and
 * (for PostgreSQL) its own schema.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino, type Logger } from 'pino'
import { configFromFlags, type ServeFlags } from '../../src/config.js'
import { startJunction, type RunningJunction } from '../../src/junction.js'
import { freshPgSchema, type Engine } from './engines.js'

export interface TestServer extends RunningJunction {
  engine: Engine
  dataDir: string
  /** The SQLite file or PostgreSQL URL (with its schema). */
  database: string
  credentials: { accessKeyId: string; secretAccessKey: string }
  stop(): Promise<void>
}

export async function startTestServer(
  engine: Engine = 'sqlite',
  flags: ServeFlags = {},
  env: NodeJS.ProcessEnv = {},
  opts: { logger?: Logger; clock?: () => number } = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'junction-test-'))
  // A --database flag brings its own PostgreSQL schema; otherwise a fresh one per server.
  const pgSchema = engine === 'postgres' && !flags.database ? freshPgSchema() : undefined
  const config = configFromFlags({
    host: '127.0.0.1',
    port: '0',
    'data-dir': dataDir,
    'vpc-init-delay': '1',
    ...(pgSchema ? { database: pgSchema.url } : {}),
    ...flags,
  })
  const junction = await startJunction(config, {
    logger: opts.logger ?? pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' }),
    env,
    ...(opts.clock ? { clock: opts.clock } : {}),
  })
  return {
    ...junction,
    engine,
    dataDir,
    database: config.database,
    credentials: {
      accessKeyId: junction.root.accessKeyId,
      secretAccessKey: junction.root.secretAccessKey,
    },
    async stop() {
      await junction.close()
      await pgSchema?.drop()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
