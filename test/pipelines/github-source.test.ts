/**
 * The `CodeStarSourceConnection` source action on a `ProviderType GitHub` connection, through the
 * sandbox GitHub: CODE_ZIP (the pushed commit's files at the zip's root, no `.git`) and
 * CODEBUILD_CLONE_REF (a full clone at the commit through the connection's installation token,
 * never stored) seen by a Commands action; the six output variables as CodePipeline defines them,
 * checked against GitHub's own REST answer for the commit; `revisionSummary` naming GitHub; the
 * repository and commit links of GetPipelineState. Then the installation suspended (source fails
 * with the reason, connection ERROR) and unsuspended (a push runs again); and forged or replayed
 * app webhook deliveries at `/webhooks/github` starting nothing.
 */
import { createHmac, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  CreatePipelineCommand,
  GetPipelineStateCommand,
  ListActionExecutionsCommand,
  StartPipelineExecutionCommand,
} from '@aws-sdk/client-codepipeline'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { testEngines } from '../helpers/engines.js'
import { hookReceiver, mintToken } from '../helpers/github-sandbox.js'
import {
  ACCOUNT,
  connectionStatus,
  ghCommit,
  ghOutcomes,
  pushOf,
  startGhPipelineFixture,
  stopGhPipelineFixture,
  type GhPipelineFixture,
} from '../helpers/github-pipelines.js'
import { actionLog, declaration, executions, finished, waitFor } from '../helpers/pipelines.js'

vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 })

for (const engine of testEngines()) {
  describe(`GitHub source action [${engine}]`, () => {
    let f: GhPipelineFixture
    beforeAll(async () => {
      f = await startGhPipelineFixture(engine, { 'enable-commands': true })
    })
    afterAll(() => stopGhPipelineFixture(f))

    /** GitHub's REST answer for a commit of acme/app (with the Junction app's own token). */
    const restCommit = async (sha: string) => {
      const t = await mintToken(f.sb, f.world.app, f.world.installationId)
      const r = await fetch(`${f.sb.apiUrl}/repos/acme/app/commits/${sha}`, {
        headers: { authorization: `Bearer ${String(t.json['token'])}` },
      })
      expect(r.status).toBe(200)
      return (await r.json()) as {
        html_url: string
        commit: { message: string; author: { date: string } }
      }
    }
    const webhookRuns = async (name: string) =>
      (await executions(f.cp, name)).filter((e) => e.trigger!.triggerType === 'Webhook').reverse()
    const sourceOf = async (name: string, id: string) =>
      (
        await f.cp.send(
          new ListActionExecutionsCommand({
            pipelineName: name,
            filter: { pipelineExecutionId: id },
          }),
        )
      ).actionExecutionDetails!.find((a) => a.actionName === 'Source')!

    it('CODE_ZIP: the pushed commit, its files at the root, the six variables, GitHub links', async () => {
      await f.cp.send(
        new CreatePipelineCommand({
          pipeline: declaration({
            name: 'gh-zip',
            roleArn: f.role,
            connectionArn: f.arn,
            commands: [
              'test ! -e .git',
              'find . -type f | sort',
              'cat src/main.sh',
              'echo "id=#{SourceVariables.CommitId} branch=#{SourceVariables.BranchName} repo=#{SourceVariables.FullRepositoryName}"',
            ],
          }),
        }),
      )
      const [creation] = await waitFor('the creation run', async () => {
        const e = await executions(f.cp, 'gh-zip')
        return e.length > 0 ? e : undefined
      })
      const first = await finished(f.cp, 'gh-zip', creation!.pipelineExecutionId!)
      expect(first.status, first.statusSummary).toBe('Succeeded')
      expect(first.artifactRevisions![0]!.revisionId).toBe(f.world.commits.second)

      const message = 'Ship it\n\nWith a body: "quotes", émoji ✓.'
      const sha = await ghCommit(
        f,
        'main',
        { 'src/main.sh': 'echo shipped\n', 'docs/a.md': null },
        message,
      )
      const run = await waitFor('the push run', async () => (await webhookRuns('gh-zip'))[0])
      const done = await finished(f.cp, 'gh-zip', run.pipelineExecutionId!)
      expect(done.status, done.statusSummary).toBe('Succeeded')
      const rest = await restCommit(sha)
      const rev = done.artifactRevisions![0]!
      expect(rev.revisionId).toBe(sha)
      expect(rev.revisionSummary).toBe(
        JSON.stringify({ ProviderType: 'GitHub', CommitMessage: rest.commit.message }),
      )
      expect(rev.revisionUrl).toBe(rest.html_url)
      expect(rev.revisionUrl).toBe(`${f.sb.url}/acme/app/commit/${sha}`)

      const source = await sourceOf('gh-zip', run.pipelineExecutionId!)
      expect(source.status).toBe('Succeeded')
      expect(source.output!.outputVariables).toEqual({
        // The same instant as GitHub's answer, in CodePipeline's form (no offset, no fraction).
        AuthorDate: new Date(rest.commit.author.date).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        BranchName: 'main',
        CommitId: sha,
        CommitMessage: rest.commit.message,
        ConnectionArn: f.arn,
        FullRepositoryName: 'acme/app',
      })
      expect(source.output!.outputVariables!['AuthorDate']).toMatch(
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
      )
      expect(rest.commit.message).toMatch(/^Ship it\n\nWith a body: "quotes", émoji ✓\.\n?$/)

      const log = await actionLog(f.cp, 'gh-zip', run.pipelineExecutionId!)
      // The tree at the commit, at the root (no {owner}-{repo}-{sha7}/ folder), nothing else.
      const listed = log.split('\n').filter((l) => l.startsWith('./'))
      expect(listed).toEqual(['./README.md', './src/main.sh'])
      expect(log).toContain('echo shipped')
      expect(log).toContain(`id=${sha} branch=main repo=acme/app`)

      const state = await f.cp.send(new GetPipelineStateCommand({ name: 'gh-zip' }))
      const action = state.stageStates![0]!.actionStates![0]!
      expect(action.entityUrl).toBe(`${f.sb.url}/acme/app`)
      expect(action.revisionUrl).toBe(rest.html_url)
    })

    it('CLONE_REF: a full clone at the commit through the connection, no token stored', async () => {
      await f.cp.send(
        new CreatePipelineCommand({
          pipeline: declaration({
            name: 'gh-clone',
            roleArn: f.role,
            connectionArn: f.arn,
            branch: 'feature/x',
            detectChanges: false,
            format: 'CODEBUILD_CLONE_REF',
            commands: [
              'test -d .git',
              'git log --format=%s',
              'echo "head=$(git rev-parse HEAD)"',
              'echo "count=$(git rev-list --count HEAD)"',
              'cat f.txt',
            ],
          }),
        }),
      )
      const [creation] = await waitFor('the creation run', async () => {
        const e = await executions(f.cp, 'gh-clone')
        return e.length > 0 ? e : undefined
      })
      const done = await finished(f.cp, 'gh-clone', creation!.pipelineExecutionId!)
      expect(done.status, done.statusSummary).toBe('Succeeded')
      const commit = done.artifactRevisions![0]!.revisionId!
      const ref = readFileSync(
        join(
          f.server.dataDir,
          'artifacts',
          ACCOUNT,
          'gh-clone',
          done.pipelineExecutionId!,
          'SourceArtifact.json',
        ),
        'utf8',
      )
      expect(JSON.parse(ref)).toMatchObject({
        connectionArn: f.arn,
        providerType: 'GitHub',
        fullRepositoryId: 'acme/app',
        branch: 'feature/x',
        commitId: commit,
      })
      expect(ref).not.toMatch(/gh[su]_/)
      const log = await actionLog(f.cp, 'gh-clone', done.pipelineExecutionId!)
      expect(log).toContain(`head=${commit}`)
      // Full history: the feature commit, main's two before it.
      expect(log).toMatch(/^Feature$/m)
      expect(log).toMatch(/^Second$/m)
      expect(log).toMatch(/count=3\b/)
      expect(log).toContain('f\n')
      expect(log).not.toMatch(/gh[su]_/)
      const source = await sourceOf('gh-clone', done.pipelineExecutionId!)
      expect(source.output!.outputVariables).toMatchObject({
        BranchName: 'feature/x',
        CommitId: commit,
        CommitMessage: expect.stringMatching(/^Feature\n?$/) as unknown as string,
        FullRepositoryName: 'acme/app',
      })
    })

    it('a suspended installation fails the source with the reason; unsuspended, a push runs again', async () => {
      await f.sb.admin(`installations/${f.world.installationId}/suspend`, {})
      await waitFor('the connection to be ERROR', async () =>
        (await connectionStatus(f)) === 'ERROR' ? true : undefined,
      )
      const r = await f.cp.send(new StartPipelineExecutionCommand({ name: 'gh-zip' }))
      const failed = await finished(f.cp, 'gh-zip', r.pipelineExecutionId!)
      expect(failed.status).toBe('Failed')
      expect(failed.statusSummary).toMatch(/suspend/i)
      const source = await sourceOf('gh-zip', r.pipelineExecutionId!)
      expect(source.status).toBe('Failed')
      expect(source.output?.executionResult?.externalExecutionSummary ?? '').toMatch(/suspend/i)

      await f.sb.admin(`installations/${f.world.installationId}/unsuspend`, {})
      await waitFor('the connection to be AVAILABLE', async () =>
        (await connectionStatus(f)) === 'AVAILABLE' ? true : undefined,
      )
      const before = (await webhookRuns('gh-zip')).length
      const sha = await ghCommit(f, 'main', { 'back.txt': 'back\n' })
      const run = await waitFor('the run after unsuspending', async () =>
        (await webhookRuns('gh-zip')).find((e) => e.sourceRevisions?.[0]?.revisionId === sha),
      )
      const done = await finished(f.cp, 'gh-zip', run.pipelineExecutionId!)
      expect(done.status, done.statusSummary).toBe('Succeeded')
      expect((await webhookRuns('gh-zip')).length).toBe(before + 1)
    })

    it('forged and replayed app deliveries start nothing; a genuine one starts once', async () => {
      // Capture a genuine push delivery on its way (the app's webhook pointed elsewhere a moment).
      const hook = await hookReceiver()
      const sha = await (async () => {
        await f.sb.admin(`apps/${f.world.app.slug}`, { webhookUrl: hook.url }, 'PUT')
        try {
          const c = await ghCommit(f, 'main', { 'captured.txt': '1\n' })
          await f.sb.settled()
          return c
        } finally {
          await f.sb.admin(
            `apps/${f.world.app.slug}`,
            { webhookUrl: `${f.server.url}/webhooks/github` },
            'PUT',
          )
          await hook.close()
        }
      })()
      const captured = hook.got.find(
        (g) =>
          g.headers['x-github-event'] === 'push' && g.body.toString('utf8').includes(`"${sha}"`),
      )!
      expect(captured).toBeDefined()
      const headers = (over: Record<string, string | undefined> = {}) => {
        const h: Record<string, string> = {}
        for (const k of [
          'content-type',
          'x-github-event',
          'x-github-delivery',
          'x-github-hook-id',
          'x-github-hook-installation-target-type',
          'x-github-hook-installation-target-id',
          'x-hub-signature-256',
          'user-agent',
        ]) {
          const v = k in over ? over[k] : captured.headers[k]
          if (typeof v === 'string') h[k] = v
        }
        return h
      }
      const post = (h: Record<string, string>, body: Buffer | string = captured.body) =>
        fetch(`${f.server.url}/webhooks/github`, { method: 'POST', headers: h, body })
      const runsAt = async () =>
        (await webhookRuns('gh-zip')).filter((e) => e.sourceRevisions?.[0]?.revisionId === sha)

      // Forged: a wrong signature, one from another secret, none, and an altered body.
      const other = `sha256=${createHmac('sha256', 'not-the-secret').update(captured.body).digest('hex')}`
      for (const sig of ['sha256=' + '0'.repeat(64), other, undefined]) {
        const r = await post(
          headers({ 'x-hub-signature-256': sig, 'x-github-delivery': randomUUID() }),
        )
        expect(r.status).toBe(401)
      }
      const altered = captured.body.toString('utf8').replace('"main"', '"mainx"')
      expect((await post(headers({ 'x-github-delivery': randomUUID() }), altered)).status).toBe(401)

      // The genuine delivery, as captured: accepted, and it starts one run at the commit.
      const genuine = await post(headers())
      expect(genuine.status).toBe(202)
      // Replayed: the same body under a new X-GitHub-Delivery is a duplicate; the same delivery
      // again (GitHub's redelivery) too.
      const replay = await post(headers({ 'x-github-delivery': randomUUID() }))
      expect(replay.status).toBe(200)
      expect(((await replay.json()) as { status: string }).status).toBe('duplicate')
      expect((await post(headers())).status).toBe(200)

      const run = await waitFor('the genuine run', async () => (await runsAt())[0])
      await ghOutcomes(f, 'the genuine push', pushOf('main', { after: sha }))
      // Positive barrier: a later genuine push is processed and started, after everything above.
      const later = await ghCommit(f, 'main', { 'later.txt': '1\n' })
      await waitFor('the later run', async () =>
        (await webhookRuns('gh-zip')).some((e) => e.sourceRevisions?.[0]?.revisionId === later)
          ? true
          : undefined,
      )
      await ghOutcomes(f, 'the later push', pushOf('main', { after: later }))
      expect(await runsAt()).toHaveLength(1)
      expect((await runsAt())[0]!.pipelineExecutionId).toBe(run.pipelineExecutionId)
      const recorded = await f.server.store.pipelines.events.recent(ACCOUNT, 'acme/app', 200)
      const at = pushOf('main', { after: sha })
      expect(
        recorded.filter((e) => at(JSON.parse(e.event) as Record<string, unknown>)),
      ).toHaveLength(1)
      expect(recorded.filter((e) => e.event.includes('mainx'))).toHaveLength(0)
    })
  })
}
