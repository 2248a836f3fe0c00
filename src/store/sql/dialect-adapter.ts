/**
 * @module store/sql/dialect-adapter
 * Everything that differs between the SQL engines, as data and small hooks (after kysely's
 * `DialectAdapter` capability flags), so the shared SQL store never branches on an engine name.
 */
import type { Kysely, Transaction } from 'kysely'
import type { Database } from './schema.js'

export type ConstraintKind = 'unique' | 'foreign-key' | 'other'

export interface SqlDialectAdapter {
  readonly engine: 'sqlite' | 'postgres'
  /** Column type of an auto-incrementing integer primary key. */
  readonly serialType: 'integer' | 'serial'
  /** Column type of a 64-bit integer holding epoch milliseconds. */
  readonly bigIntType: 'integer' | 'bigint'
  /** Whether `autoIncrement()` must be added to the serial column (SQLite). */
  readonly needsAutoIncrement: boolean
  /**
   * True when no other process can write the database (SQLite in exclusive locking mode): hot rows
   * may then be cached in memory, since every write passes through this process.
   */
  readonly exclusiveAccess: boolean
  /** Classifies a driver error raised by a constraint. */
  constraintKind(err: unknown): ConstraintKind
  /** Runs once before migrations. */
  afterOpen?(db: Kysely<Database>): Promise<void>
  /**
   * Serialises migrations between processes that share the database, inside the migration
   * transaction (PostgreSQL: a transaction-scoped advisory lock). SQLite needs none: the file has
   * one owner.
   */
  lockMigrations?(tx: Transaction<Database>): Promise<void>
  /**
   * Runs `fn` in a transaction whose commit does not wait for the disk (the audit trail, whose
   * loss window on a power failure is documented): SQLite `synchronous = NORMAL` for that one
   * transaction, PostgreSQL `SET LOCAL synchronous_commit = off`. Nothing else is relaxed.
   */
  relaxedTransaction<T>(
    db: Kysely<Database>,
    fn: (tx: Transaction<Database>) => Promise<T>,
  ): Promise<T>
}
