/**
 * Junction's webhooks on the sandbox GitLab, end to end: a pipeline whose source is a project in
 * a nested subgroup makes Junction register one project hook there (by reconciliation, with a
 * secret token, push, tag push and merge request events); deliveries are verified by
 * `X-Gitlab-Token` (missing or wrong: 401, nothing recorded); a resend under the same
 * `Idempotency-Key`, and the same body under fresh ids, start nothing new; the hook is removed when
 * no pipeline uses the project any more.
 */
import { randomUUID } from 'node:crypto'
import { CreatePipelineCommand, DeletePipelineCommand } from '@aws-sdk/client-codepipeline'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { MasterKey } from '../../src/crypto/master-key.js'
import { testEngines } from '../helpers/engines.js'
import {
  glCommit,
  glHooks,
  glOutcomes,
  PROJECT,
  pushOf,
  startGlPipelineFixture,
  stopGlPipelineFixture,
  type GlPipelineFixture,
} from '../helpers/gitlab-pipelines.js'
import { glReceiver } from '../helpers/gitlab-sandbox.js'
import { declaration, executions, finished, waitFor } from '../helpers/pipelines.js'

vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 })

for (const engine of testEngines()) {
  describe(`GitLab webhooks through Junction [${engine}]`, () => {
    let f: GlPipelineFixture
    let receiver: Awaited<ReturnType<typeof glReceiver>>
    let hookId: string
    let secret: string
    beforeAll(async () => {
      f = await startGlPipelineFixture(engine)
      // A second hook on the project, to see GitLab's deliveries exactly as Junction gets them.
      receiver = await glReceiver()
      const r = await f.sb.get(
        `/projects/${encodeURIComponent(PROJECT)}/hooks`,
        f.sb.token('alice-api'),
        {
          method: 'POST',
          body: { url: receiver.url, token: 'receiver-token', push_events: true },
        },
      )
      expect(r.status).toBe(201)
    })
    afterAll(async () => {
      await receiver?.close()
      await stopGlPipelineFixture(f)
    })

    const runs = async (name: string) =>
      (await executions(f.cp, name))
        .filter((e) => e.trigger!.triggerType !== 'CreatePipeline')
        .reverse()
    const junctionHooks = async () =>
      (await glHooks(f)).filter((h) => String(h['url']).startsWith(f.server.url))
    const post = (body: Buffer | string, headers: Record<string, string>) =>
      fetch(`${f.server.url}/webhooks/${hookId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      })
    const deliveries = async () => f.server.store.webhooks.deliveries(hookId, 0, 500)

    it('a pipeline on a project registers one hook there, with a secret token and its events', async () => {
      for (const name of ['gl-hook-a', 'gl-hook-b'])
        await f.cp.send(
          new CreatePipelineCommand({
            pipeline: declaration({
              name,
              roleArn: f.role,
              connectionArn: f.arn,
              repository: PROJECT,
            }),
          }),
        )
      const [hook] = await waitFor('the hook', async () => {
        const h = await junctionHooks()
        return h.length > 0 ? h : undefined
      })
      // Two pipelines, one repository: one hook.
      expect(await junctionHooks()).toHaveLength(1)
      expect(hook).toMatchObject({
        push_events: true,
        tag_push_events: true,
        merge_requests_events: true,
        enable_ssl_verification: true,
      })
      // GitLab never shows the token again.
      expect(hook).not.toHaveProperty('token')
      const records = (await f.server.store.webhooks.all()).filter((w) => w.repository === PROJECT)
      expect(records).toHaveLength(1)
      hookId = records[0]!.id
      expect(hook!['url']).toBe(`${f.server.url}/webhooks/${hookId}`)
      expect(records[0]!.providerHookId).toBe(String(hook!['id']))
      const key = MasterKey.load(f.server.dataDir, {})
      secret = (JSON.parse(key.decrypt(records[0]!.secretCiphertext)) as { accessToken: string })
        .accessToken
      expect(secret.length).toBeGreaterThanOrEqual(32)
    })

    it('a push is delivered with the token, recorded once and starts the pipelines', async () => {
      const sha = await glCommit(f, 'main', { 'w.txt': 'w\n' })
      await glOutcomes(f, 'the push', pushOf('main', { after: sha }))
      const run = await waitFor('the run', async () => (await runs('gl-hook-a'))[0])
      const done = await finished(f.cp, 'gl-hook-a', run.pipelineExecutionId!)
      expect(done.artifactRevisions![0]!.revisionId).toBe(sha)
      expect(run.trigger!.triggerType).toBe('Webhook')
      const mine = (await deliveries()).filter(
        (d) =>
          (JSON.parse(d.event) as { changes?: { after?: string }[] }).changes?.[0]?.after === sha,
      )
      expect(mine).toHaveLength(1)
      const log = (
        await f.sb.admin<{ deliveries: { url: string; status: number }[] }>('deliveries')
      ).deliveries.filter((d) => d.url.startsWith(f.server.url))
      expect(log.at(-1)!.status).toBe(202)
    })

    /** The raw body GitLab delivered for the push of `sha` (the receiver's copy). */
    const rawPush = (sha: string) =>
      waitFor('the receiver copy', async () =>
        receiver.got.find(
          (g) =>
            g.headers['x-gitlab-event'] === 'Push Hook' &&
            (JSON.parse(g.body.toString('utf8')) as { after?: string }).after === sha,
        ),
      )

    it('refuses a delivery with a missing or wrong X-Gitlab-Token and records nothing', async () => {
      const sha = await glCommit(f, 'main', { 'forged.txt': '1\n' })
      await glOutcomes(f, 'the push', pushOf('main', { after: sha }))
      const got = await rawPush(sha)
      expect(got.headers['x-gitlab-token']).toBe('receiver-token')
      const base = {
        'x-gitlab-event': 'Push Hook',
        'x-gitlab-event-uuid': randomUUID(),
        'idempotency-key': randomUUID(),
      }
      const before = (await deliveries()).length
      const missing = await post(got.body, base)
      expect(missing.status).toBe(401)
      const wrong = await post(got.body, { ...base, 'x-gitlab-token': 'receiver-token' })
      expect(wrong.status).toBe(401)
      expect(((await wrong.json()) as { reason: string }).reason).toMatch(/X-Gitlab-Token/)
      // A token of another length, and one differing in its last character only.
      expect((await post(got.body, { ...base, 'x-gitlab-token': `${secret}x` })).status).toBe(401)
      const last = secret.at(-1) === 'a' ? 'b' : 'a'
      expect(
        (await post(got.body, { ...base, 'x-gitlab-token': `${secret.slice(0, -1)}${last}` }))
          .status,
      ).toBe(401)
      expect((await deliveries()).length).toBe(before)
      // The right token gets past the check (an event Junction does not act on: ignored).
      const note = await post('{"object_kind":"note"}', {
        ...base,
        'x-gitlab-event': 'Note Hook',
        'x-gitlab-token': secret,
      })
      expect(note.status).toBe(200)
      expect(await note.json()).toMatchObject({ status: 'ignored' })
      expect((await deliveries()).length).toBe(before)
    })

    it('a resend under the same Idempotency-Key, and the same body with new ids, start nothing new', async () => {
      const sha = await glCommit(f, 'main', { 'dedupe.txt': '1\n' })
      await glOutcomes(f, 'the push', pushOf('main', { after: sha }))
      const run = await waitFor('the run', async () =>
        (await runs('gl-hook-a')).find((r) => r.trigger!.triggerDetail?.includes(sha) ?? false),
      )
      await finished(f.cp, 'gl-hook-a', run.pipelineExecutionId!)
      const countRuns = async () => (await runs('gl-hook-a')).length
      const n = await countRuns()
      const count = async () =>
        (await deliveries()).filter(
          (d) =>
            (JSON.parse(d.event) as { changes?: { after?: string }[] }).changes?.[0]?.after === sha,
        ).length
      expect(await count()).toBe(1)

      // GitLab's "Resend request": the same body, Idempotency-Key and event UUID.
      const sent = (
        await f.sb.admin<{ deliveries: { id: string; url: string; status: number }[] }>(
          'deliveries',
        )
      ).deliveries.filter((d) => d.url.startsWith(f.server.url))
      const original = sent.at(-1)!
      await f.sb.admin(`deliveries/${encodeURIComponent(original.id)}/resend`, {})
      const resent = (
        await f.sb.admin<{ deliveries: { id: string; url: string; status: number }[] }>(
          'deliveries',
        )
      ).deliveries.filter((d) => d.url.startsWith(f.server.url))
      expect(resent.at(-1)!.status).toBe(200)

      // The same payload as a new event: fresh UUID and Idempotency-Key, the right token.
      const got = await rawPush(sha)
      const replay = await post(got.body, {
        'x-gitlab-event': 'Push Hook',
        'x-gitlab-token': secret,
        'x-gitlab-event-uuid': randomUUID(),
        'idempotency-key': randomUUID(),
      })
      expect(replay.status).toBe(200)
      expect(await replay.json()).toMatchObject({ status: 'duplicate' })
      expect(await count()).toBe(1)
      // A later push's run is the only new one: the barrier for "nothing started".
      const later = await glCommit(f, 'main', { 'dedupe.txt': '2\n' })
      await glOutcomes(f, 'the later push', pushOf('main', { after: later }))
      await waitFor('the later run', async () => ((await countRuns()) === n + 1 ? true : undefined))
      expect(await countRuns()).toBe(n + 1)
    })

    it('the hook is removed when no pipeline uses the project any more', async () => {
      // Their runs finished first (deleting a pipeline while it runs is another matter).
      for (const name of ['gl-hook-a', 'gl-hook-b'])
        for (const e of await executions(f.cp, name))
          await finished(f.cp, name, e.pipelineExecutionId!)
      await f.cp.send(new DeletePipelineCommand({ name: 'gl-hook-a' }))
      // One pipeline still uses it: the hook stays (checked after the other is gone too).
      expect(await junctionHooks()).toHaveLength(1)
      await f.cp.send(new DeletePipelineCommand({ name: 'gl-hook-b' }))
      await waitFor('the hook removed', async () =>
        (await junctionHooks()).length === 0 ? true : undefined,
      )
      expect((await f.server.store.webhooks.all()).filter((w) => w.repository === PROJECT)).toEqual(
        [],
      )
      // The receiver's own hook is untouched.
      expect(await glHooks(f)).toHaveLength(1)
      // A delivery to the removed hook's address is refused.
      const gone = await post('{}', { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': secret })
      expect(gone.status).toBe(404)
    })
  })
}
