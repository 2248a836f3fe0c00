/**
 * The PostgreSQL URL and its password stay off the command line and out of every message: taken
 * from JUNCTION_DATABASE_URL, JUNCTION_DATABASE_URL_FILE or --database-file; a wrong password
 * (answered by a stand-in PostgreSQL server that asks for it in clear and refuses it) fails the
 * start (or a `junction keys rotate`) with a message that does not contain it; a password on the
 * command line gets a warning.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { itWith, needs } from '../helpers/requirements.js'
import { MasterKey } from '../../src/crypto/master-key.js'
import { freshPgSchema } from '../helpers/engines.js'
import { BIN, spawnServe } from '../helpers/process.js'
import { spawn } from 'node:child_process'

const PASSWORD = 'Tr0ub4dor-and-3-horses'

/**
 * A stand-in PostgreSQL server: asks every client for its password in clear text, records it,
 * and refuses it as PostgreSQL does (28P01).
 */
function fakePostgres(): Promise<{ server: Server; port: number; passwords: string[] }> {
  const passwords: string[] = []
  const server = createServer((sock) => {
    let buf = Buffer.alloc(0)
    let started = false
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      if (!started) {
        if (buf.length < 4 || buf.length < buf.readInt32BE(0)) return
        buf = buf.subarray(buf.readInt32BE(0))
        started = true
        // AuthenticationCleartextPassword
        const r = Buffer.alloc(9)
        r.write('R', 0)
        r.writeInt32BE(8, 1)
        r.writeInt32BE(3, 5)
        sock.write(r)
      }
      if (buf.length < 5 || buf.length < 1 + buf.readInt32BE(1)) return
      if (buf[0] === 0x70) passwords.push(buf.subarray(5, buf.readInt32BE(1)).toString('utf8'))
      const fields = Buffer.from(
        'SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user "junction"\0\0',
      )
      const e = Buffer.alloc(5)
      e.write('E', 0)
      e.writeInt32BE(4 + fields.length, 1)
      sock.end(Buffer.concat([e, fields]))
    })
    sock.on('error', () => undefined)
  })
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, port: (server.address() as AddressInfo).port, passwords }),
    ),
  )
}

/** Runs `junction serve` to its exit (a start that fails). */
const serveUntilExit = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  runToExit(['serve', '--port', '0', ...args], env)

/** Runs the bin to its exit, stdout and stderr together. */
function runToExit(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    child.on('exit', (code) => resolve({ code, out }))
  })
}

describe('the PostgreSQL URL and its password', () => {
  const dir = mkdtempSync(join(tmpdir(), 'junction-dburl-'))
  let fake: Awaited<ReturnType<typeof fakePostgres>>
  let url: string
  beforeAll(async () => {
    fake = await fakePostgres()
    url = `postgres://junction:${encodeURIComponent(PASSWORD)}@127.0.0.1:${fake.port}/junction`
  })
  afterAll(() => {
    fake?.server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('is taken from JUNCTION_DATABASE_URL, and a wrong password is never shown', async () => {
    const r = await serveUntilExit(['--data-dir', join(dir, 'env')], {
      JUNCTION_DATABASE_URL: url,
    })
    expect(r.code).toBe(1)
    expect(r.out).toMatch(/failed to start: password authentication failed for user "junction"/)
    expect(fake.passwords.at(-1)).toBe(PASSWORD)
    expect(r.out).not.toContain(PASSWORD)
    expect(r.out).not.toContain(encodeURIComponent(PASSWORD))
  })

  it('is taken from --database-file and from JUNCTION_DATABASE_URL_FILE', async () => {
    const file = join(dir, 'database-url')
    writeFileSync(file, `${url}\n`, { mode: 0o600 })
    const before = fake.passwords.length
    const flag = await serveUntilExit(['--data-dir', join(dir, 'file'), '--database-file', file])
    const fromEnv = await serveUntilExit(['--data-dir', join(dir, 'file-env')], {
      JUNCTION_DATABASE_URL_FILE: file,
    })
    for (const r of [flag, fromEnv]) {
      expect(r.code).toBe(1)
      expect(r.out).toMatch(/password authentication failed/)
      expect(r.out).not.toContain(PASSWORD)
    }
    expect(fake.passwords.slice(before)).toEqual([PASSWORD, PASSWORD])
    const missing = await serveUntilExit(['--database-file', join(dir, 'nowhere')])
    expect(missing.code).toBe(2)
    expect(missing.out).toMatch(/cannot read --database-file .*nowhere: ENOENT/)
    const both = await serveUntilExit(['--database', url, '--database-file', file])
    expect(both.code).toBe(2)
    expect(both.out).not.toContain(PASSWORD)
  })

  it('warns when the password is on the command line, and does not repeat it', async () => {
    const r = await serveUntilExit(['--data-dir', join(dir, 'argv'), '--database', url])
    expect(r.code).toBe(1)
    expect(r.out).toMatch(/warning: the --database URL carries a password/)
    expect(r.out).not.toContain(PASSWORD)
  })

  it('is taken from the environment by junction keys rotate too', async () => {
    const dataDir = join(dir, 'keys')
    mkdirSync(dataDir, { mode: 0o700 })
    writeFileSync(join(dataDir, 'master.key'), MasterKey.generate().serialize(), { mode: 0o600 })
    const before = fake.passwords.length
    const r = await runToExit(['keys', 'rotate', '--data-dir', dataDir], {
      JUNCTION_DATABASE_URL: url,
    })
    expect(r.code).toBe(1)
    expect(r.out).toMatch(/password authentication failed/)
    expect(r.out).not.toContain(PASSWORD)
    expect(fake.passwords.slice(before)).toEqual([PASSWORD])
  })

  it('keeps an unparsable URL out of the message', async () => {
    const bad = `postgres://junction:${PASSWORD}@[not-a-host/junction`
    const r = await serveUntilExit(['--data-dir', join(dir, 'bad')], { JUNCTION_DATABASE_URL: bad })
    expect(r.code).toBe(1)
    expect(r.out).toMatch(/not a valid URL/)
    expect(r.out).not.toContain(PASSWORD)
  })

  itWith(needs.postgres)(
    'serves from a real PostgreSQL named only in the environment',
    async () => {
      const schema = freshPgSchema()
      try {
        // The local server trusts the connection; the password is there to be kept out of sight.
        const withPassword = new URL(schema.url)
        withPassword.password = PASSWORD
        const file = join(dir, 'real-url')
        writeFileSync(file, withPassword.toString(), { mode: 0o600 })
        const p = await spawnServe(['--data-dir', join(dir, 'real')], {
          JUNCTION_DATABASE_URL_FILE: file,
        })
        expect(await (await fetch(`${p.url}/health`)).json()).toMatchObject({ store: 'postgres' })
        p.child.kill('SIGTERM')
        expect(await p.exited).toBe(0)
        expect(p.stdout() + p.stderr()).not.toContain(PASSWORD)
      } finally {
        await schema.drop()
      }
    },
  )
})
