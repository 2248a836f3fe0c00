/**
 * @module cli/keys
 * `junction keys rotate`: replaces the master key and re-encrypts every stored secret under the
 * new one. Crash-safe: the new key is written to `master.key.new` before any secret changes, a
 * start after an interruption decrypts with both keys, and the new key takes `master.key`'s place
 * last (the old one is kept as `master.key.old`).
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { MasterKey } from '../crypto/master-key.js'
import { databaseFrom, defaults } from '../config.js'
import { openStore } from '../store/index.js'

export const KEYS_USAGE = `Usage: junction keys rotate [--data-dir <dir>] [--database <file or url> | --database-file <file>]

Generates a new master key, re-encrypts every stored secret under it and replaces
<data-dir>/master.key (the old key is kept as master.key.old). Stop the server first: an SQLite
data directory is locked while it runs, and every PostgreSQL node must restart with the new key.
With JUNCTION_MASTER_KEY set, give the new key in JUNCTION_NEW_MASTER_KEY and start the servers
with it afterwards. The database may also be given in JUNCTION_DATABASE_URL or a file named by
JUNCTION_DATABASE_URL_FILE, as for junction serve.
`

function writeDurably(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o600 })
  const fd = openSync(file, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

export async function keys(
  args: string[],
  out: NodeJS.WritableStream = process.stdout,
  env = process.env,
): Promise<number> {
  const [command, ...rest] = args
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: {
      'data-dir': { type: 'string' },
      database: { type: 'string' },
      'database-file': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (command !== 'rotate' || values.help) {
    out.write(KEYS_USAGE)
    return values.help ? 0 : 2
  }
  const dataDir = resolve(values['data-dir'] ?? defaults.dataDir)
  const database = databaseFrom(values, env, dataDir)
  const fromEnv = Boolean(env['JUNCTION_MASTER_KEY'])
  if (!fromEnv && !existsSync(join(dataDir, 'master.key')))
    throw new Error(`${join(dataDir, 'master.key')} does not exist: nothing to rotate`)
  const current = MasterKey.load(dataDir, env)
  let next: MasterKey
  const pending = join(dataDir, 'master.key.new')
  if (fromEnv) {
    const text = env['JUNCTION_NEW_MASTER_KEY']
    if (!text)
      throw new Error('JUNCTION_MASTER_KEY is set: give the new key in JUNCTION_NEW_MASTER_KEY')
    next = MasterKey.parse(text, 'JUNCTION_NEW_MASTER_KEY')
  } else if (existsSync(pending)) {
    // An earlier rotation was interrupted: finish it with the same new key.
    next = MasterKey.parse(readFileSync(pending, 'utf8'), pending)
  } else {
    next = MasterKey.generate()
  }
  next.alsoDecryptWith(current)
  // Opening the store first refuses a running server before anything is written.
  const store = await openStore(database)
  let count: number
  try {
    // The new key reaches the disk before any secret is sealed under it.
    if (!fromEnv && !existsSync(pending)) writeDurably(pending, next.serialize())
    count = await store.resealSecrets((sealed) => next.encrypt(next.decrypt(sealed)))
  } finally {
    await store.close()
  }
  if (!fromEnv) {
    renameSync(join(dataDir, 'master.key'), join(dataDir, 'master.key.old'))
    renameSync(pending, join(dataDir, 'master.key'))
  }
  out.write(
    `Re-encrypted ${count} secrets: master key ${current.id} → ${next.id}.\n` +
      (fromEnv
        ? 'Start every Junction node with JUNCTION_MASTER_KEY set to the new key.\n'
        : `The new key is ${join(dataDir, 'master.key')}; the old one is kept as master.key.old (delete it once you have a backup).\n`),
  )
  return 0
}
