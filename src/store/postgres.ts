/**
 * @module store/postgres
 * The shared engine: PostgreSQL through node-postgres, so several Junction nodes can share one
 * database. A `schema` query parameter on the URL (Junction's own, removed before connecting)
 * selects a schema, created when missing.
 */
import pg from 'pg'
import { ValidationException } from '../errors/common.js'
import { Kysely, PostgresDialect, sql } from 'kysely'
import { scrubbedError } from './database-url.js'
import type { SqlDialectAdapter } from './sql/dialect-adapter.js'
import type { Database as Schema } from './sql/schema.js'
import { SqlStore } from './sql/sql-store.js'

const adapter: SqlDialectAdapter = {
  engine: 'postgres',
  serialType: 'serial',
  bigIntType: 'bigint',
  needsAutoIncrement: false,
  // Several nodes may share the database: nothing is cached across requests.
  exclusiveAccess: false,
  async lockMigrations(tx) {
    // Per schema, so that Junction deployments in different schemas do not wait for each other.
    await sql`select pg_advisory_xact_lock(hashtext(current_schema() || ':junction-migrations'))`.execute(
      tx,
    )
  },
  relaxedTransaction(db, fn) {
    return db.transaction().execute(async (tx) => {
      await sql`set local synchronous_commit = off`.execute(tx)
      return fn(tx)
    })
  },
  constraintKind(err) {
    const code = (err as { code?: unknown }).code
    if (code === '23505') return 'unique'
    if (code === '23503') return 'foreign-key'
    return 'other'
  },
}

const INT8_OID = 20

/**
 * The last guard for U+0000, which PostgreSQL text cannot hold (the server would fail the query,
 * a 500): a query with such a parameter is refused with a 400 before it is sent. Inputs are
 * checked earlier (protocol/validate); this catches any path that missed it.
 */
function refuseNul(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown
  client.query = ((...args: unknown[]) => {
    const values = args[1]
    if (Array.isArray(values) && values.some((v) => typeof v === 'string' && v.includes('\u0000')))
      throw new ValidationException('Text values must not contain the NUL character (U+0000)')
    return query(...args)
  }) as typeof client.query
}

/** `create schema if not exists`, tolerating a node that creates it at the same moment. */
async function createSchema(db: Kysely<Schema>, schema: string): Promise<void> {
  try {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db)
  } catch (err) {
    const code = (err as { code?: string }).code
    // 23505: the concurrent creator won the catalog insert; 42P06: the schema exists.
    if (code !== '23505' && code !== '42P06') throw err
  }
}

export async function openPostgresStore(url: string): Promise<SqlStore> {
  try {
    return await open(url)
  } catch (err) {
    // Neither a log nor the start-up error ever shows the URL's password.
    throw scrubbedError(err, url)
  }
}

async function open(url: string): Promise<SqlStore> {
  const parsed = new URL(url)
  const schema = parsed.searchParams.get('schema')
  parsed.searchParams.delete('schema')
  if (schema !== null && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema))
    throw new Error(`invalid schema name in --database URL: ${schema}`)
  const pool = new pg.Pool({
    connectionString: parsed.toString(),
    max: 10,
    // Epoch milliseconds fit a double exactly; read BIGINT as a number, not a string.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID
          ? (v: string) => Number(v)
          : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
    },
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  })
  // A connection that fails (the server restarted, the database was dropped, a terminated backend)
  // must not end the process: idle, the pool drops it and the next query connects anew; checked
  // out (between the statements of a transaction), the next statement fails and the connection is
  // discarded when released. Without these listeners the 'error' events would be uncaught.
  // /ready reports a store that does not answer.
  pool.on('connect', (client) => {
    refuseNul(client)
    client.on('error', () => undefined)
  })
  pool.on('error', () => undefined)
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) })
  try {
    if (schema) await createSchema(db, schema)
    return await SqlStore.open(db, adapter)
  } catch (err) {
    await db.destroy()
    throw err
  }
}
