/**
 * `/health` (liveness) and `/ready` (readiness: the store answers in time, work leases can be held
 * or are not needed, no shutdown under way), issue 15 item 11. The unreachable store is real: a
 * PostgreSQL database reached through a TCP relay that stops relaying (a network partition: the
 * store does not answer, /ready says so after its timeout), and then the database dropped with its
 * connections terminated (the store answers with an error at once).
 */
import { createServer, connect, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { pgUrl } from '../helpers/engines.js'
import { itWith, needs } from '../helpers/requirements.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

const servers: TestServer[] = []
afterAll(async () => {
  await Promise.allSettled(servers.map((s) => s.close()))
})

async function ready(url: string) {
  const res = await fetch(`${url}/ready`)
  return {
    status: res.status,
    body: (await res.json()) as {
      status: string
      checks: {
        store: { ok: boolean; ms?: number; error?: string }
        leases: { ok: boolean; needed: boolean; reason?: string }
        shutdown: { ok: boolean }
      }
    },
  }
}

describe('/health and /ready', () => {
  it('a worker node on SQLite is live and ready: the store answers and its leases can be held', async () => {
    const s = await startTestServer('sqlite')
    servers.push(s)
    const health = await fetch(`${s.url}/health`)
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({ status: 'ok', store: 'sqlite' })
    const r = await ready(s.url)
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({
      status: 'ready',
      checks: { store: { ok: true }, leases: { ok: true, needed: true }, shutdown: { ok: true } },
    })
    const head = await fetch(`${s.url}/ready`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')
    // Not a route for writes: the AWS-shaped 404/405 answers as before.
    expect((await fetch(`${s.url}/ready`, { method: 'POST' })).status).not.toBe(200)
  })

  it('an --api-only node needs no leases', async () => {
    const s = await startTestServer('sqlite', { 'api-only': true })
    servers.push(s)
    const r = await ready(s.url)
    expect(r.status).toBe(200)
    expect(r.body.checks.leases).toEqual({ ok: true, needed: false })
  })

  itWith(needs.postgres)(
    'on PostgreSQL: 200, then 503 while the database does not answer (relay paused), 200 again, and 503 once the database is dropped',
    async () => {
      const admin = new pg.Client({ connectionString: pgUrl })
      await admin.connect()
      const db = `junction_ready_${randomBytes(4).toString('hex')}`
      await admin.query(`create database ${db}`)
      // A TCP relay to PostgreSQL that can stop relaying (a partition) and start again.
      const target = new URL(pgUrl!)
      // While paused, bytes wait in the relay (nothing is lost, so the connections stay usable).
      let paused = false
      const waiting: (() => void)[] = []
      const held: { from: Socket; to: Socket }[] = []
      const pass = (out: Socket) => (d: Buffer) =>
        paused ? waiting.push(() => out.write(d)) : out.write(d)
      const relay: Server = createServer((from) => {
        const to = connect(Number(target.port || 5432), target.hostname)
        held.push({ from, to })
        from.on('data', pass(to))
        to.on('data', pass(from))
        from.on('error', () => to.destroy())
        to.on('error', () => from.destroy())
        from.on('close', () => to.destroy())
        to.on('close', () => from.destroy())
      })
      await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r))
      const port = (relay.address() as AddressInfo).port
      const url = new URL(pgUrl!)
      url.host = `127.0.0.1:${port}`
      url.pathname = `/${db}`
      let s: TestServer | undefined
      try {
        s = await startTestServer('postgres', { database: url.toString() })
        const before = await ready(s.url)
        expect(before.status).toBe(200)
        expect(before.body.checks.store.ok).toBe(true)

        paused = true
        const partitioned = await ready(s.url)
        expect(partitioned.status).toBe(503)
        expect(partitioned.body).toMatchObject({
          status: 'not ready',
          checks: {
            store: { ok: false, error: 'store did not answer within 2000 ms' },
            leases: { ok: false, needed: true, reason: 'the store does not answer' },
          },
        })
        // Liveness is not readiness: the process still answers.
        expect((await fetch(`${s.url}/health`)).status).toBe(200)

        // The partition heals: the connections that waited get their answers, and so does /ready.
        paused = false
        for (const flush of waiting.splice(0)) flush()
        const healed = await ready(s.url)
        expect(healed.status).toBe(200)

        await admin.query(`drop database ${db} with (force)`)
        const dropped = await ready(s.url)
        expect(dropped.status).toBe(503)
        expect(dropped.body.checks.store.ok).toBe(false)
        expect(dropped.body.checks.store.error).toMatch(/^store error/)
        expect(JSON.stringify(dropped.body)).not.toContain(db)
      } finally {
        await s?.close().catch(() => undefined)
        relay.close()
        for (const { from, to } of held) {
          from.destroy()
          to.destroy()
        }
        await admin.query(`drop database if exists ${db} with (force)`)
        await admin.end()
      }
    },
    120_000,
  )
})
