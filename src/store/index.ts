/**
 * @module store
 * Opens the engine named by `--database`: a `postgres://` (or `postgresql://`) URL selects
 * PostgreSQL, anything else is a SQLite file path.
 */
import type { Store } from './store.js'
import { openSqliteStore } from './sqlite.js'
import { openPostgresStore } from './postgres.js'

export type { Store } from './store.js'
export * from './store.js'
export type * from './audit-store.js'

export function isPostgresUrl(database: string): boolean {
  return /^postgres(ql)?:\/\//i.test(database)
}

export function openStore(database: string): Promise<Store> {
  return isPostgresUrl(database) ? openPostgresStore(database) : openSqliteStore(database)
}
