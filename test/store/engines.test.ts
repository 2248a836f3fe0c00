import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { itWith, needs } from '../helpers/requirements.js'
import { openPostgresStore } from '../../src/store/postgres.js'
import { openSqliteStore } from '../../src/store/sqlite.js'
import { runStoreContract } from '../contract/store.case.js'
import { freshPgSchema, pgUrl, testEngines } from '../helpers/engines.js'

const engines = testEngines()

if (engines.includes('sqlite')) {
  const dir = mkdtempSync(join(tmpdir(), 'junction-store-'))
  const file = join(dir, 'junction.db')
  runStoreContract({
    name: 'sqlite',
    open: () => openSqliteStore(file),
    reopen: () => openSqliteStore(file),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  })
}

describe('SQLite engine', () => {
  it('refuses a second process on the same file (exclusive locking)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-lock-'))
    const file = join(dir, 'junction.db')
    const first = await openSqliteStore(file)
    try {
      const { spawnSync } = await import('node:child_process')
      const probe = spawnSync(
        process.execPath,
        [
          '-e',
          `const D=require('better-sqlite3'); const d=new D(${JSON.stringify(file)}, {timeout: 200}); try { d.prepare('select count(*) from connections').get(); console.log('opened') } catch (e) { console.log(e.code) }`,
        ],
        { encoding: 'utf8', cwd: process.cwd() },
      )
      expect(probe.stdout.trim()).toBe('SQLITE_BUSY')
    } finally {
      await first.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

if (engines.includes('postgres')) {
  const schema = freshPgSchema()
  runStoreContract({
    name: 'postgres',
    open: () => openPostgresStore(schema.url),
    reopen: () => openPostgresStore(schema.url),
    cleanup: () => schema.drop(),
  })
  describe('PostgreSQL engine', () => {
    it('lets several nodes start at once on one schema, applying each migration once', async () => {
      const shared = freshPgSchema()
      try {
        const stores = await Promise.all([1, 2, 3].map(() => openPostgresStore(shared.url)))
        await Promise.all(stores.map((st) => st.ensureAccount('000000000000')))
        await Promise.all(stores.map((st) => st.close()))
        const pg = await import('pg')
        const client = new pg.default.Client({ connectionString: pgUrl })
        await client.connect()
        const schema = new URL(shared.url).searchParams.get('schema')!
        const { rows } = await client.query(`select name from ${schema}.junction_migrations`)
        await client.end()
        expect(rows.map((r: { name: string }) => r.name)).toEqual([
          '0001_connections_hosts_tags',
          '0002_iam',
          '0003_providers',
          '0004_pipelines',
          '0005_console_sessions',
          '0006_webhook_digests',
          '0007_provider_app_github',
          '0008_installation_host',
          '0009_audit_events',
          '0010_pipeline_watches',
        ])
      } finally {
        await shared.drop()
      }
    })
  })
} else {
  describe('Store contract [postgres]', () => {
    itWith(needs.postgres)('runs the store contract on PostgreSQL', () => {})
  })
}
