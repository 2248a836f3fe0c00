/**
 * Which store engines the suites run against: SQLite always, PostgreSQL when
 * `TEST_DATABASE_URL` is set (CI sets it to the local server). `STORES=sqlite` narrows a run.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'

export type Engine = 'sqlite' | 'postgres'

export const pgUrl = process.env['TEST_DATABASE_URL']

export function testEngines(): Engine[] {
  const only = process.env['STORES']?.split(',')
  const engines: Engine[] = ['sqlite']
  if (pgUrl) engines.push('postgres')
  return only ? engines.filter((e) => only.includes(e)) : engines
}

if (!pgUrl && !process.env['JUNCTION_PG_NOTICE_SHOWN']) {
  process.env['JUNCTION_PG_NOTICE_SHOWN'] = '1'
  console.warn('TEST_DATABASE_URL is not set: the PostgreSQL engine is skipped in this run')
}

/** A fresh PostgreSQL schema for one server or suite, and a function that drops it. */
export function freshPgSchema(): { url: string; drop: () => Promise<void> } {
  if (!pgUrl) throw new Error('TEST_DATABASE_URL is not set')
  const schema = `jt_${randomBytes(6).toString('hex')}`
  const url = new URL(pgUrl)
  url.searchParams.set('schema', schema)
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: pgUrl })
      await client.connect()
      try {
        await client.query(`drop schema if exists ${schema} cascade`)
      } finally {
        await client.end()
      }
    },
  }
}
