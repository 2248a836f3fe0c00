/**
 * Junction's own webhooks on the sandbox Bitbucket: registered once per repository with their own
 * secret, deliveries verified and recorded once, forged, replayed and oversized ones refused.
 */
import { createHmac } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MasterKey } from '../../src/crypto/master-key.js'
import type { PushEvent } from '../../src/providers/provider.js'
import {
  completeWithToken,
  newConnection,
  startConnectFixture,
  stopConnectFixture,
  type ConnectFixture,
} from '../helpers/connect.js'
import { testEngines } from '../helpers/engines.js'

for (const engine of testEngines()) {
  describe(`webhook ingress [${engine}]`, () => {
    let f: ConnectFixture
    let arn: string
    let hookId: string
    let secret: string
    const account = '000000000000'
    beforeAll(async () => {
      f = await startConnectFixture(engine)
      arn = await newConnection(f)
      await completeWithToken(f, arn)
    })
    afterAll(() => stopConnectFixture(f))

    const post = (id: string, body: Buffer, headers: Record<string, string>) =>
      fetch(`${f.server.url}/webhooks/${id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      })
    const sign = (body: Buffer) =>
      `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`

    it('registers one webhook per repository, at the provider and in the store', async () => {
      const w = await f.server.webhooks.ensure(account, arn, 'acme/app')
      const again = await f.server.webhooks.ensure(account, arn, 'acme/app')
      expect(again.id).toBe(w.id)
      hookId = w.id
      const hooks = (
        await f.sb.admin<{ hooks: { url: string; events: string[]; secret: string | null }[] }>(
          'hooks',
        )
      ).hooks
      expect(hooks).toHaveLength(1)
      expect(hooks[0]).toMatchObject({ url: `${f.server.url}/webhooks/${w.id}`, secret: '(set)' })
      expect(hooks[0]!.events).toEqual(
        expect.arrayContaining(['repo:push', 'pullrequest:created', 'pullrequest:fulfilled']),
      )
      await expect(f.server.webhooks.ensure(account, arn, 'rival/secret')).rejects.toThrow(
        /outside workspace acme/,
      )
      const key = MasterKey.load(f.server.dataDir, {})
      secret = (JSON.parse(key.decrypt(w.secretCiphertext)) as { accessToken: string }).accessToken
    })

    it('records a real push delivery once', async () => {
      const { commit } = await f.sb.admin<{ commit: string }>('repositories/acme/app/commits', {
        branch: 'main',
        files: { 'w.txt': 'w' },
      })
      await f.sb.settled()
      const deliveries = await f.server.store.webhooks.deliveries(hookId, 0, 10)
      expect(deliveries).toHaveLength(1)
      const event = JSON.parse(deliveries[0]!.event) as PushEvent
      expect(event.changes[0]).toMatchObject({ kind: 'branch', name: 'main', after: commit })
      const log = (await f.sb.admin<{ deliveries: { status: number }[] }>('deliveries')).deliveries
      expect(log.at(-1)!.status).toBe(202)
    })

    it('acknowledges a replayed delivery without recording it again', async () => {
      const body = Buffer.from(
        JSON.stringify({
          repository: { full_name: 'acme/app', uuid: '{x}' },
          push: { changes: [] },
        }),
      )
      const headers = {
        'x-event-key': 'repo:push',
        'x-request-uuid': 'replay-1',
        'x-hub-signature': sign(body),
      }
      const first = await post(hookId, body, headers)
      expect(first.status).toBe(202)
      const second = await post(hookId, body, headers)
      expect(second.status).toBe(200)
      expect(await second.json()).toEqual({ status: 'duplicate' })
      const all = await f.server.store.webhooks.deliveries(hookId, 0, 10)
      expect(all.filter((d) => d.deliveryId === 'replay-1')).toHaveLength(1)
    })

    it('refuses forged, unsigned, oversized, misdirected and unknown deliveries', async () => {
      const body = Buffer.from(
        JSON.stringify({ repository: { full_name: 'acme/app' }, push: { changes: [] } }),
      )
      const base = { 'x-event-key': 'repo:push', 'x-request-uuid': 'forged-1' }
      const forged = await post(hookId, body, {
        ...base,
        'x-hub-signature': `sha256=${'0'.repeat(64)}`,
      })
      expect(forged.status).toBe(401)
      expect(((await forged.json()) as { reason: string }).reason).toMatch(/does not match/)
      expect((await post(hookId, body, base)).status).toBe(401)
      const big = Buffer.alloc(1024 * 1024 + 10, 0x20)
      expect((await post(hookId, big, { ...base, 'x-hub-signature': sign(big) })).status).toBe(413)
      const other = Buffer.from(
        JSON.stringify({ repository: { full_name: 'acme/lib' }, push: { changes: [] } }),
      )
      expect(
        (
          await post(hookId, other, {
            ...base,
            'x-request-uuid': 'other-1',
            'x-hub-signature': sign(other),
          })
        ).status,
      ).toBe(400)
      expect(
        (await post('0'.repeat(32), body, { ...base, 'x-hub-signature': sign(body) })).status,
      ).toBe(404)
      const get = await fetch(`${f.server.url}/webhooks/${hookId}`)
      expect(get.status).toBe(405)
      const fork = Buffer.from(JSON.stringify({ repository: { full_name: 'acme/app' } }))
      const ignored = await post(hookId, fork, {
        'x-event-key': 'repo:fork',
        'x-request-uuid': 'fork-1',
        'x-hub-signature': sign(fork),
      })
      expect(await ignored.json()).toMatchObject({ status: 'ignored' })
      const ids = (await f.server.store.webhooks.deliveries(hookId, 0, 50)).map((d) => d.deliveryId)
      expect(ids).not.toContain('forged-1')
      expect(ids).not.toContain('other-1')
      expect(ids).not.toContain('fork-1')
    })

    it('removes the webhook at the provider and stops accepting its deliveries', async () => {
      await f.server.webhooks.remove(hookId)
      expect((await f.sb.admin<{ hooks: unknown[] }>('hooks')).hooks).toHaveLength(0)
      const body = Buffer.from('{}')
      expect((await post(hookId, body, { 'x-hub-signature': sign(body) })).status).toBe(404)
    })
  })
}
