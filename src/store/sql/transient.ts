/**
 * @module store/sql/transient
 * Transactions PostgreSQL may abort through no fault of their own: a deadlock (`40P01`, one of
 * two transactions taking the same rows in another order is chosen to fail) or a serialization
 * failure (`40001`). Such a transaction changed nothing and is run again, a few times, before its
 * error reaches the caller (where it would be an InternalFailure). SQLite serializes writers and
 * never answers these.
 */

const TRANSIENT = new Set(['40P01', '40001'])
const ATTEMPTS = 4

/** Whether `err` is a PostgreSQL deadlock or serialization failure. */
export function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && TRANSIENT.has(code)
}

/** Runs `fn` (a whole transaction) again while PostgreSQL aborts it as a deadlock victim. */
export async function retryTransient<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn()
    } catch (err) {
      if (!isTransient(err) || attempt >= ATTEMPTS) throw err
      await new Promise((r) => setTimeout(r, 5 * attempt + Math.floor(Math.random() * 10)))
    }
  }
}
