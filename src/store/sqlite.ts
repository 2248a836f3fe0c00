/**
 * @module store/sqlite
 * The embedded engine: better-sqlite3 in WAL mode, the default at `<data-dir>/junction.db`; the
 * database and its WAL are owner-only (0600).
 */
import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { privateFile, tighten } from '../bootstrap/private-files.js'
import { Kysely, sql, SqliteDialect } from 'kysely'
import type { SqlDialectAdapter } from './sql/dialect-adapter.js'
import type { Database as Schema } from './sql/schema.js'
import { SqlStore } from './sql/sql-store.js'

const adapter: SqlDialectAdapter = {
  engine: 'sqlite',
  serialType: 'integer',
  bigIntType: 'integer',
  needsAutoIncrement: true,
  exclusiveAccess: true,
  relaxedTransaction(db, fn) {
    // The one connection is held throughout, so no other write runs while the level is lowered.
    return db.connection().execute(async (conn) => {
      await sql`pragma synchronous = NORMAL`.execute(conn)
      try {
        return await conn.transaction().execute(fn)
      } finally {
        await sql`pragma synchronous = FULL`.execute(conn)
      }
    })
  },
  constraintKind(err) {
    const code = (err as { code?: unknown }).code
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
      return 'unique'
    if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return 'foreign-key'
    return 'other'
  },
}

export async function openSqliteStore(file: string): Promise<SqlStore> {
  try {
    return await open(file)
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_BUSY')
      throw new Error(`${file} is in use by another Junction process`, { cause: err })
    throw err
  }
}

async function open(file: string): Promise<SqlStore> {
  if (file !== ':memory:' && !file.startsWith('file:')) {
    // Owner-only, wherever --database puts it: missing folders are created 0700 (existing ones
    // are left as they are), the file 0600 before SQLite opens it. SQLite gives its -wal and
    // -shm files the database file's mode; older ones are tightened too.
    mkdirSync(dirname(resolve(file)), { recursive: true, mode: 0o700 })
    privateFile(file)
    for (const extra of ['-wal', '-shm', '-journal']) tighten(file + extra)
  }
  const sqlite = new Database(file)
  // One Junction process owns the file: a second one is refused instead of silently sharing it,
  // which also makes the in-memory row cache safe (see RowCache). Set before WAL mode so that
  // SQLite needs no shared-memory index.
  try {
    sqlite.pragma('locking_mode = EXCLUSIVE')
    // Within this process there is one connection; a lock held elsewhere is never released.
    sqlite.pragma('busy_timeout = 1000')
    sqlite.pragma('journal_mode = WAL')
    // FULL makes every acknowledged write survive power loss, not only a process kill.
    sqlite.pragma('synchronous = FULL')
    sqlite.pragma('foreign_keys = ON')
  } catch (err) {
    sqlite.close()
    throw err
  }
  // Kysely prepares a statement per query; better-sqlite3 statements are reusable, so keep them.
  const statements = new Map<string, Database.Statement>()
  const database = {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let st = statements.get(sql)
      if (!st) {
        st = sqlite.prepare(sql)
        if (statements.size < 500) statements.set(sql, st)
      }
      return st
    },
  }
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database }) })
  try {
    return await SqlStore.open(db, adapter)
  } catch (err) {
    await db.destroy()
    throw err
  }
}
