/**
 * Junction's own webhooks on the sandbox Bitbucket: registered once per repository with their own
 * secret, deliveries verified and recorded once, forged, replayed and oversized ones refused; a
 * captured signed delivery resent with a fresh (unsigned) X-Request-UUID starts nothing.
 */
import { createHmac, randomUUID } from 'node:crypto'
import { CreatePipelineCommand, type CodePipelineClient } from '@aws-sdk/client-codepipeline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MasterKey } from '../../src/crypto/master-key.js'
import type { PushEvent, RawWebhook } from '../../src/providers/provider.js'
import {
  completeWithToken,
  newConnection,
  startConnectFixture,
  stopConnectFixture,
  type ConnectFixture,
} from '../helpers/connect.js'
import { testEngines } from '../helpers/engines.js'
import {
  declaration,
  executions,
  startPipelineFixture,
  stopPipelineFixture,
  waitFor,
} from '../helpers/pipelines.js'

const ACCOUNT = '000000000000'

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

for (const engine of testEngines()) {
  describe(`webhook replay with a fresh delivery id [${engine}]`, () => {
    let f: ConnectFixture
    let cp: CodePipelineClient
    let arn: string
    let role: string
    beforeAll(async () => {
      ;({ f, cp, arn, role } = await startPipelineFixture(engine))
    })
    afterAll(() => stopPipelineFixture({ f, cp }))

    it('starts one execution for a captured signed delivery resent with a new X-Request-UUID, two for two pushes', async () => {
      await cp.send(
        new CreatePipelineCommand({
          pipeline: declaration({ name: 'replayed', roleArn: role, connectionArn: arn }),
        }),
      )
      const w = await waitFor('the webhook', async () => (await f.server.store.webhooks.all())[0])
      // The attacker's capture: the real delivery as the sandbox Bitbucket sent it, headers and
      // signed body (e.g. from a proxy's log).
      const captured: RawWebhook[] = []
      const receive = f.server.webhooks.receive.bind(f.server.webhooks)
      f.server.webhooks.receive = (id, req) => {
        captured.push({ headers: { ...req.headers }, body: Buffer.from(req.body) })
        return receive(id, req)
      }
      const push = (file: string) =>
        f.sb.admin<{ commit: string }>('repositories/acme/app/commits', {
          branch: 'main',
          files: { [file]: file },
        })
      const runs = async () =>
        (await executions(cp, 'replayed')).map((e) => e.sourceRevisions?.[0]?.revisionId)
      // CreatePipeline starts one execution on the current head.
      const initial = await waitFor('the execution at creation', async () => {
        const r = await runs()
        return r.length === 1 && r[0] ? r : undefined
      })
      const first = await push('one.txt')
      await waitFor('the first push to start an execution', async () =>
        (await runs()).includes(first.commit) ? true : undefined,
      )
      expect(captured).toHaveLength(1)
      const original = captured[0]!
      expect(original.headers['x-hub-signature']).toMatch(/^sha256=/)
      // The replay: the same signed body, a fresh unsigned delivery id, several times.
      for (let i = 0; i < 3; i++) {
        const headers: Record<string, string> = {}
        for (const [k, v] of Object.entries(original.headers))
          if (typeof v === 'string' && !['host', 'content-length', 'connection'].includes(k))
            headers[k] = v
        headers['x-request-uuid'] = randomUUID()
        headers['x-attempt-number'] = '1'
        const r = await fetch(`${f.server.url}/webhooks/${w.id}`, {
          method: 'POST',
          headers,
          body: original.body,
        })
        expect(r.status).toBe(200)
        expect(await r.json()).toMatchObject({ status: 'duplicate' })
      }
      // The sandbox's "Resend request" (same body, same X-Request-UUID) is still a retry.
      const sent = (
        await f.sb.admin<{ deliveries: { id: string; status: number }[] }>('deliveries')
      ).deliveries.at(-1)!
      await f.sb.admin(`deliveries/${encodeURIComponent(sent.id)}/resend`, {})
      const resent = (
        await f.sb.admin<{ deliveries: { id: string; status: number }[] }>('deliveries')
      ).deliveries.at(-1)!
      expect(resent.status).toBe(200)
      // A distinct push is a new body: a second execution.
      const second = await push('two.txt')
      await waitFor('the second push to start an execution', async () =>
        (await runs()).includes(second.commit) ? true : undefined,
      )
      await waitFor('every event to be processed', async () => {
        const recent = await f.server.store.pipelines.events.recent(ACCOUNT, 'acme/app', 20)
        return recent.every((r) => r.processedAt !== null) ? true : undefined
      })
      expect((await runs()).sort()).toEqual([...initial, first.commit, second.commit].sort())
      const recorded = await f.server.store.webhooks.deliveries(w.id, 0, 50)
      expect(recorded).toHaveLength(2)
    })
  })
}
