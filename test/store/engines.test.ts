import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'vitest'
import { openPostgresStore } from '../../src/store/postgres.js'
import { openSqliteStore } from '../../src/store/sqlite.js'
import { runStoreContract } from '../contract/store.case.js'
import { freshPgSchema, testEngines } from '../helpers/engines.js'

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

if (engines.includes('postgres')) {
  const schema = freshPgSchema()
  runStoreContract({
    name: 'postgres',
    open: () => openPostgresStore(schema.url),
    reopen: () => openPostgresStore(schema.url),
    cleanup: () => schema.drop(),
  })
} else {
  describe('Store contract [postgres]', () => {
    it.skip('needs TEST_DATABASE_URL (CI sets it to the local PostgreSQL)', () => {})
  })
}
