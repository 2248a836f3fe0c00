/**
 * GitLab's webhook limits, end to end on the sandbox GitLab (which keeps them as GitLab does):
 * - a push of more than 20 commits lists only the newest 20 in its payload: the changed files come
 *   from the compare API, so a file-path filter matching a file changed only in an older commit
 *   still starts the pipeline;
 * - a push moving more than three refs at once sends no hook at all: Junction polls GitLab
 *   repositories behind their webhook (a short poll interval here) and starts the pipeline at the
 *   new head with trigger PollForSourceChanges, while a push the webhook reported is not started
 *   a second time by a poll;
 * - `[REDACTED]` author emails (GitLab's redaction) change nothing.
 */
import { CreatePipelineCommand, ListActionExecutionsCommand } from '@aws-sdk/client-codepipeline'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { testEngines } from '../helpers/engines.js'
import {
  glCommit,
  glOutcomes,
  glPush,
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
  describe(`GitLab webhook limits [${engine}]`, () => {
    let f: GlPipelineFixture
    let receiver: Awaited<ReturnType<typeof glReceiver>>
    beforeAll(async () => {
      f = await startGlPipelineFixture(engine, { 'poll-interval': '1', 'poll-budget': '36000' })
      receiver = await glReceiver()
      const r = await f.sb.get(
        `/projects/${encodeURIComponent(PROJECT)}/hooks`,
        f.sb.token('alice-api'),
        { method: 'POST', body: { url: receiver.url, token: 'rx', push_events: true } },
      )
      expect(r.status).toBe(201)
    })
    afterAll(async () => {
      await receiver?.close()
      await stopGlPipelineFixture(f)
    })

    const create = async (name: string, o: Partial<Parameters<typeof declaration>[0]> = {}) => {
      await f.cp.send(
        new CreatePipelineCommand({
          pipeline: declaration({
            name,
            roleArn: f.role,
            connectionArn: f.arn,
            repository: PROJECT,
            ...o,
          }),
        }),
      )
      const [first] = await waitFor(`the creation run of ${name}`, async () => {
        const e = await executions(f.cp, name)
        return e.length > 0 ? e : undefined
      })
      await finished(f.cp, name, first!.pipelineExecutionId!)
    }
    const runs = async (name: string) =>
      (await executions(f.cp, name))
        .filter((e) => e.trigger!.triggerType !== 'CreatePipeline')
        .reverse()
    const sourceOf = async (name: string, id: string) =>
      (
        await f.cp.send(
          new ListActionExecutionsCommand({
            pipelineName: name,
            filter: { pipelineExecutionId: id },
          }),
        )
      ).actionExecutionDetails!.find((a) => a.actionName === 'Source')!

    it('more than 20 commits: a file changed only in an older commit still matches a path filter', async () => {
      await create('gl-old-file', {
        branch: 'main',
        triggers: [
          {
            providerType: 'CodeStarSourceConnection',
            gitConfiguration: {
              sourceActionName: 'Source',
              push: [{ branches: { includes: ['main'] }, filePaths: { includes: ['legacy/**'] } }],
            },
          },
        ],
      })
      // 22 commits made on a side branch (no pipeline watches it), the oldest touching legacy/,
      // then main moved to them in one push: one hook, 22 commits, the newest 20 listed.
      await glCommit(f, 'side/bulk', { 'legacy/old.txt': 'old\n' }, { message: 'Old file' })
      const tip = await glCommit(f, 'side/bulk', { 'noise.txt': 'n' }, { count: 21 })
      await glPush(f, { 'refs/heads/main': tip })
      const hook = await waitFor('the main push hook', async () =>
        receiver
          .gitlab('Push Hook')
          .find((d) => d.body['after'] === tip && d.body['ref'] === 'refs/heads/main'),
      )
      const commits = hook.body['commits'] as { added: string[]; modified: string[] }[]
      expect(hook.body['total_commits_count']).toBe(22)
      expect(commits).toHaveLength(20)
      expect(commits.flatMap((c) => [...c.added, ...c.modified])).not.toContain('legacy/old.txt')
      const o = (await glOutcomes(f, 'the bulk push', pushOf('main', { after: tip }))).find(
        (x) => x.pipeline === 'gl-old-file',
      )
      expect(o?.started).toBeDefined()
      const all = await runs('gl-old-file')
      expect(all).toHaveLength(1)
      expect(all[0]!.trigger!.triggerType).toBe('WebhookV2')
      const done = await finished(f.cp, 'gl-old-file', all[0]!.pipelineExecutionId!)
      expect(done.artifactRevisions![0]!.revisionId).toBe(tip)
    })

    it('more than three refs in one push (no hook): polling starts the pipeline at the new head', async () => {
      await create('gl-many-refs', { branch: 'main' })
      // A push the webhook reports: started once, by the webhook.
      const reported = await glCommit(f, 'main', { 'reported.txt': '1\n' })
      const first = await waitFor('the webhook run', async () => (await runs('gl-many-refs'))[0])
      expect(first.trigger!.triggerType).toBe('Webhook')
      expect(first.trigger!.triggerDetail).toContain(reported)

      // Four refs at once: main and three new branches. GitLab sends nothing.
      const next = await glCommit(f, 'side/next', { 'src/next.c': 'int n;\n' })
      await waitFor('the side branch hook', async () =>
        receiver.gitlab('Push Hook').find((d) => d.body['after'] === next),
      )
      const hooksBefore = receiver.got.length
      await glPush(f, {
        'refs/heads/main': next,
        'refs/heads/extra/a': next,
        'refs/heads/extra/b': next,
        'refs/heads/extra/c': next,
      })
      // Found by a poll, recorded once no delivery came for it within the grace (30 s here).
      const polled = await waitFor(
        'the polled run',
        async () =>
          (await runs('gl-many-refs')).find(
            (r) => r.trigger!.triggerType === 'PollForSourceChanges',
          ),
        120_000,
      )
      const done = await finished(f.cp, 'gl-many-refs', polled.pipelineExecutionId!)
      expect(done.artifactRevisions![0]!.revisionId).toBe(next)
      expect((await sourceOf('gl-many-refs', polled.pipelineExecutionId!)).status).toBe('Succeeded')
      // No hook came for that push (the side branch's commit came before it).
      expect(receiver.got.slice(hooksBefore)).toEqual([])
      // The reported push was started once only: by the webhook, never again by a poll.
      const all = await runs('gl-many-refs')
      expect(all.filter((r) => r.trigger!.triggerDetail?.includes(reported))).toHaveLength(1)
      expect(all).toHaveLength(2)
    })

    it('[REDACTED] author emails change nothing', async () => {
      await f.sb.admin('settings', { redactAuthorEmails: true }, 'PUT')
      try {
        await create('gl-redacted', { branch: 'redacted/main' })
        const sha = await glCommit(f, 'redacted/main', { 'r.txt': 'r\n' })
        const hook = await waitFor('the push hook', async () =>
          receiver.gitlab('Push Hook').find((d) => d.body['after'] === sha),
        )
        const commits = hook.body['commits'] as { author: { email: string } }[]
        expect(commits.at(-1)!.author.email).toBe('[REDACTED]')
        const run = await waitFor('the run', async () =>
          (await runs('gl-redacted')).find((r) => r.trigger!.triggerDetail?.includes(sha)),
        )
        await finished(f.cp, 'gl-redacted', run.pipelineExecutionId!)
        const source = await sourceOf('gl-redacted', run.pipelineExecutionId!)
        expect(source.status).toBe('Succeeded')
        expect(source.output!.outputVariables!['CommitId']).toBe(sha)
        expect(source.output!.outputVariables!['BranchName']).toBe('redacted/main')
      } finally {
        await f.sb.admin('settings', { redactAuthorEmails: null }, 'PUT')
      }
    })
  })
}
