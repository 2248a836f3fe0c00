/**
 * Pipelines end to end on the sandbox Bitbucket, through the official CodePipeline SDK client:
 * the API and its refusals, the source action's artifact and variables, Commands, pushes starting
 * exactly the matching pipelines (with the reasons recorded), duplicates and forgeries refused,
 * stopping, and a deleted connection.
 */
import { createHmac } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import {
  CreatePipelineCommand,
  DeletePipelineCommand,
  GetPipelineCommand,
  GetPipelineStateCommand,
  ListActionExecutionsCommand,
  ListPipelinesCommand,
  ListTagsForResourceCommand,
  StartPipelineExecutionCommand,
  StopPipelineExecutionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdatePipelineCommand,
  type CodePipelineClient,
} from '@aws-sdk/client-codepipeline'
import { DeleteConnectionCommand } from '@aws-sdk/client-codestar-connections'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { extractZip } from '../../src/pipelines/artifacts.js'
import { completeWithToken, newConnection, type ConnectFixture } from '../helpers/connect.js'
import { testEngines } from '../helpers/engines.js'
import { policy, userWithPolicy } from '../helpers/iam.js'
import {
  declaration,
  startPipelineFixture,
  stopPipelineFixture,
  executions,
  finished,
  pipelineClient,
  pipelineRole,
  waitFor,
} from '../helpers/pipelines.js'

const ACCOUNT = '000000000000'

async function rejects(p: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await p
  } catch (err) {
    return err as { name: string; message: string }
  }
  throw new Error('expected a rejection')
}

for (const engine of testEngines()) {
  describe(`pipelines [${engine}]`, () => {
    let f: ConnectFixture
    let cp: CodePipelineClient
    let arn: string
    let role: string
    beforeAll(async () => {
      ;({ f, cp, arn, role } = await startPipelineFixture(engine, { 'enable-commands': true }))
    })
    afterAll(() => stopPipelineFixture({ f, cp }))

    const hooks = async () =>
      (await f.sb.admin<{ hooks: { url: string }[] }>('hooks')).hooks.map((h) => h.url)
    const push = (files: Record<string, string | null>, branch = 'main', message = 'change') =>
      f.sb.admin<{ commit: string }>('repositories/acme/app/commits', {
        branch,
        message,
        author: 'alice',
        files,
      })

    it('creates a pipeline, answers it back, lists and tags it, and refuses a second of that name', async () => {
      const decl = declaration({ name: 'app-build', roleArn: role, connectionArn: arn })
      const created = await cp.send(
        new CreatePipelineCommand({ pipeline: decl, tags: [{ key: 'team', value: 'web' }] }),
      )
      expect(created.pipeline).toMatchObject({ name: 'app-build', version: 1, pipelineType: 'V2' })
      const got = await cp.send(new GetPipelineCommand({ name: 'app-build' }))
      expect(got.pipeline!.stages!.map((s) => s.name)).toEqual(['Source', 'Build'])
      expect(got.metadata!.pipelineArn).toBe(`arn:aws:codepipeline:us-east-1:${ACCOUNT}:app-build`)
      const again = await rejects(cp.send(new CreatePipelineCommand({ pipeline: decl })))
      expect(again.name).toBe('PipelineNameInUseException')
      const list = await cp.send(new ListPipelinesCommand({}))
      expect(list.pipelines!.map((p) => p.name)).toContain('app-build')
      const resourceArn = got.metadata!.pipelineArn!
      await cp.send(new TagResourceCommand({ resourceArn, tags: [{ key: 'env', value: 'prod' }] }))
      await cp.send(new UntagResourceCommand({ resourceArn, tagKeys: ['team'] }))
      const tags = await cp.send(new ListTagsForResourceCommand({ resourceArn }))
      expect(tags.tags).toEqual([{ key: 'env', value: 'prod' }])
      // Junction registered one webhook for the watched repository.
      await waitFor('the webhook', async () => ((await hooks()).length === 1 ? true : undefined))
    })

    it('refuses declarations CodePipeline refuses, with its error codes, and creates nothing', async () => {
      const base = declaration({ name: 'bad', roleArn: role, connectionArn: arn })
      const cases: [unknown, string, RegExp][] = [
        [
          { ...base, stages: [base.stages![0]] },
          'InvalidStructureException',
          /at least two stages/,
        ],
        [
          {
            ...base,
            stages: [
              base.stages![0],
              {
                name: 'Deploy',
                actions: [
                  {
                    name: 'S3',
                    actionTypeId: {
                      category: 'Deploy',
                      owner: 'AWS',
                      provider: 'S3',
                      version: '1',
                    },
                    inputArtifacts: [{ name: 'SourceArtifact' }],
                    configuration: { BucketName: 'b', Extract: 'true' },
                  },
                ],
              },
            ],
          },
          'InvalidActionDeclarationException',
          /not available in Junction/,
        ],
        [
          { ...base, pipelineType: 'V1', triggers: [] as never, executionMode: 'QUEUED' },
          'InvalidStructureException',
          /V2 only/,
        ],
        [
          {
            ...base,
            triggers: [
              {
                providerType: 'CodeStarSourceConnection',
                gitConfiguration: {
                  sourceActionName: 'Source',
                  push: [{ branches: { includes: ['feature/[a-'] } }],
                },
              },
            ],
          },
          'InvalidStructureException',
          /invalid glob/,
        ],
        [
          { ...base, roleArn: `arn:aws:iam::${ACCOUNT}:role/missing` },
          'InvalidStructureException',
          /AssumeRole/,
        ],
        [
          {
            ...base,
            stages: [
              {
                ...base.stages![0],
                actions: [
                  {
                    ...base.stages![0]!.actions![0]!,
                    configuration: { ...base.stages![0]!.actions![0]!.configuration, Branch: 'x' },
                  },
                ],
              },
              base.stages![1],
            ],
          },
          'InvalidActionDeclarationException',
          /configuration key 'Branch'/,
        ],
      ]
      for (const [pipeline, code, message] of cases) {
        const err = await rejects(
          cp.send(new CreatePipelineCommand({ pipeline: pipeline as never })),
        )
        expect(err.name, JSON.stringify(pipeline).slice(0, 100)).toBe(code)
        expect(err.message).toMatch(message)
      }
      const schemaErr = await rejects(
        cp.send(new CreatePipelineCommand({ pipeline: { ...base, name: 'bad name!' } })),
      )
      expect(schemaErr.name).toBe('ValidationException')
      const list = await cp.send(new ListPipelinesCommand({}))
      expect(list.pipelines!.map((p) => p.name)).not.toContain('bad')
    })

    it('runs the source and Commands actions: the tree at the commit, the variables, the log', async () => {
      const name = 'vars'
      await cp.send(
        new CreatePipelineCommand({
          pipeline: declaration({
            name,
            roleArn: role,
            connectionArn: arn,
            commands: [
              'test ! -e .git',
              'cat src/main.c',
              'echo "commit=#{SourceVariables.CommitId} branch=#{SourceVariables.BranchName} repo=#{SourceVariables.FullRepositoryName}"',
              'export BUILT=yes-$(ls | wc -l)',
            ],
            outputVariables: ['BUILT'],
          }),
        }),
      )
      const [first] = await waitFor('the first execution', async () => {
        const e = await executions(cp, name)
        return e.length > 0 ? e : undefined
      })
      expect(first!.trigger!.triggerType).toBe('CreatePipeline')
      const done = await finished(cp, name, first!.pipelineExecutionId!)
      expect(done.status, done.statusSummary).toBe('Succeeded')
      expect(done.artifactRevisions![0]).toMatchObject({
        name: 'SourceArtifact',
        revisionId: f.world.commits.second,
        revisionSummary: JSON.stringify({
          ProviderType: 'Bitbucket',
          CommitMessage: 'Second commit\n\nWith a body.\n',
        }),
      })
      const actions = await cp.send(
        new ListActionExecutionsCommand({
          pipelineName: name,
          filter: { pipelineExecutionId: done.pipelineExecutionId },
        }),
      )
      const source = actions.actionExecutionDetails!.find((a) => a.actionName === 'Source')!
      expect(source.status).toBe('Succeeded')
      expect(source.output!.outputVariables).toMatchObject({
        BranchName: 'main',
        CommitId: f.world.commits.second,
        CommitMessage: 'Second commit\n\nWith a body.\n',
        ConnectionArn: arn,
        FullRepositoryName: 'acme/app',
      })
      expect(source.output!.outputVariables!['AuthorDate']).toMatch(
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
      )
      const build = actions.actionExecutionDetails!.find((a) => a.actionName === 'Build')!
      expect(build.status).toBe('Succeeded')
      expect(build.output!.outputVariables).toEqual({ BUILT: 'yes-2' })
      const logUrl = build.output!.executionResult!.externalExecutionUrl!
      const log = await (await fetch(logUrl)).text()
      expect(log).toContain('int main(){return 1;}')
      expect(log).toContain(`commit=${f.world.commits.second} branch=main repo=acme/app`)
      // A forged or altered log link shows nothing.
      const forged = await fetch(`${logUrl.slice(0, -3)}xyz`)
      expect(forged.status).toBe(403)
      // The CODE_ZIP artifact holds the tree at the commit and nothing else.
      const zip = join(
        f.server.dataDir,
        'artifacts',
        ACCOUNT,
        name,
        done.pipelineExecutionId!,
        'SourceArtifact.zip',
      )
      const dir = mkdtempSync(join(tmpdir(), 'junction-zip-'))
      try {
        await extractZip(zip, dir)
        const files = execFileSync('find', ['.', '-type', 'f'], { cwd: dir, encoding: 'utf8' })
          .split('\n')
          .filter(Boolean)
          .sort()
        expect(files).toEqual(['./README.md', './src/main.c', './src/new.c'])
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
      const state = await cp.send(new GetPipelineStateCommand({ name }))
      expect(state.stageStates!.map((s) => s.latestExecution?.status)).toEqual([
        'Succeeded',
        'Succeeded',
      ])
    })

    it('starts exactly the pipelines a push matches, and records why the others did not', async () => {
      const mk = (name: string, extra: Partial<Parameters<typeof declaration>[0]>) =>
        cp.send(
          new CreatePipelineCommand({
            pipeline: declaration({ name, roleArn: role, connectionArn: arn, ...extra }),
          }),
        )
      await mk('t-src', {
        triggers: [
          {
            providerType: 'CodeStarSourceConnection',
            gitConfiguration: {
              sourceActionName: 'Source',
              push: [{ branches: { includes: ['main'] }, filePaths: { includes: ['src/**'] } }],
            },
          },
        ],
      })
      await mk('t-docs', {
        triggers: [
          {
            providerType: 'CodeStarSourceConnection',
            gitConfiguration: {
              sourceActionName: 'Source',
              push: [{ branches: { includes: ['main'] }, filePaths: { includes: ['docs/**'] } }],
            },
          },
        ],
      })
      await mk('t-feature', {
        triggers: [
          {
            providerType: 'CodeStarSourceConnection',
            gitConfiguration: {
              sourceActionName: 'Source',
              push: [{ branches: { includes: ['feature/**'], excludes: ['feature/skip-*'] } }],
            },
          },
        ],
      })
      await mk('no-detect', { detectChanges: false })
      const names = ['app-build', 'vars', 't-src', 't-docs', 't-feature', 'no-detect']
      // Let each pipeline's first (CreatePipeline) run be recorded before counting.
      const before = new Map<string, number>()
      for (const n of names) before.set(n, (await executions(cp, n)).length)
      expect((await hooks()).length).toBe(1)
      const pushed = await push({ 'docs/guide.md': 'guide\n' })
      const started = async (n: string) =>
        (await executions(cp, n)).filter((e) => e.trigger!.triggerType !== 'CreatePipeline')
      await waitFor('t-docs to start', async () =>
        (await started('t-docs')).length === 1 ? true : undefined,
      )
      // Wait until the event is processed (its outcome recorded), then count.
      const events = await waitFor('the event outcome', async () => {
        const recent = await f.server.store.pipelines.events.recent(ACCOUNT, 'acme/app', 5)
        const e = recent.find((r) => r.processedAt !== null && JSON.parse(r.event).kind === 'push')
        return e
      })
      const outcomes = JSON.parse(events.result!) as {
        pipeline: string
        started?: string
        reason: string
      }[]
      const byName = new Map(outcomes.map((o) => [o.pipeline, o]))
      // Each started pipeline's outcome names the one execution the push started.
      for (const n of ['t-docs', 'app-build', 'vars']) {
        const runs = await started(n)
        expect(runs, n).toHaveLength(1)
        expect(byName.get(n)!.started, n).toBe(runs[0]!.pipelineExecutionId)
      }
      expect(byName.get('t-src')!.started).toBeUndefined()
      expect(byName.get('t-src')!.reason).toMatch(/docs\/guide\.md.*not included by \[src\/\*\*\]/)
      expect(byName.get('t-feature')!.reason).toMatch(/branch 'main' is not included/)
      expect(byName.get('no-detect')!.reason).toMatch(/DetectChanges is false/)
      const docs = (await started('t-docs'))[0]!
      expect(docs.trigger).toMatchObject({ triggerType: 'WebhookV2' })
      expect((await started('app-build'))[0]!.trigger!.triggerType).toBe('Webhook')
      const run = await finished(cp, 't-docs', docs.pipelineExecutionId!)
      expect(run.status, run.statusSummary).toBe('Succeeded')
      expect(run.artifactRevisions![0]!.revisionId).toBe(pushed.commit)
      for (const n of ['t-src', 't-feature', 'no-detect'])
        expect((await started(n)).length, n).toBe(0)
      // A feature branch starts only t-feature; an excluded one nothing.
      await push({ 'x.txt': '1\n' }, 'feature/login')
      await push({ 'y.txt': '1\n' }, 'feature/skip-this')
      await waitFor('t-feature to start', async () =>
        (await started('t-feature')).length === 1 ? true : undefined,
      )
      await f.sb.settled?.()
      await waitFor('the events to be processed', async () => {
        const recent = await f.server.store.pipelines.events.recent(ACCOUNT, 'acme/app', 10)
        return recent.every((r) => r.processedAt !== null) ? true : undefined
      })
      expect((await started('t-feature')).length).toBe(1)
      for (const n of ['app-build', 'vars', 't-docs', 't-src'])
        expect((await started(n)).length, n).toBe(n === 't-src' ? 0 : 1)
      void before
    })

    it('processes a re-delivered delivery once, and refuses forged ones', async () => {
      const w = (await f.server.store.webhooks.all())[0]!
      const before = (await executions(cp, 'app-build')).length
      const pushed = await push({ 'README.md': '# app v2\n' })
      await waitFor('app-build to start', async () =>
        (await executions(cp, 'app-build')).some(
          (e) => e.sourceRevisions?.[0]?.revisionId === pushed.commit,
        )
          ? true
          : undefined,
      )
      // Bitbucket's "Resend request": the same body and request UUID, acknowledged as a duplicate.
      const sent = (
        await f.sb.admin<{ deliveries: { id: string; status: number }[] }>('deliveries')
      ).deliveries.at(-1)!
      expect(sent.status).toBe(202)
      await f.sb.admin(`deliveries/${encodeURIComponent(sent.id)}/resend`, {})
      const resent = (
        await f.sb.admin<{ deliveries: { id: string; status: number }[] }>('deliveries')
      ).deliveries.at(-1)!
      expect(resent.status).toBe(200)
      // A forged delivery (a made-up signature), a stale one (signed with a secret that is not the
      // webhook's) and an unsigned one: 401, nothing recorded.
      const body = JSON.stringify({ push: { changes: [] } })
      const url = `${f.server.url}/webhooks/${w.id}`
      const stale = `sha256=${createHmac('sha256', 'an-old-secret').update(body).digest('hex')}`
      for (const signature of ['sha256=' + '0'.repeat(64), stale, undefined]) {
        const r = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-event-key': 'repo:push',
            'x-request-uuid': `forged-${String(signature)}`,
            ...(signature ? { 'x-hub-signature': signature } : {}),
          },
          body,
        })
        expect(r.status).toBe(401)
      }
      // Barrier: every recorded event processed; the forged deliveries were never recorded.
      await waitFor('every event to be processed', async () => {
        const recent = await f.server.store.pipelines.events.recent(ACCOUNT, 'acme/app', 20)
        return recent.every((r) => r.processedAt !== null) ? true : undefined
      })
      const recorded = await f.server.store.webhooks.deliveries(w.id, 0, 1000)
      expect(recorded.filter((d) => JSON.stringify(d).includes('forged-'))).toHaveLength(0)
      expect((await executions(cp, 'app-build')).length).toBe(before + 1)
    })

    it('starts with sourceRevisions, variables and a client token (once), and stops with abandon', async () => {
      const name = 'manual'
      await cp.send(
        new CreatePipelineCommand({
          pipeline: declaration({
            name,
            roleArn: role,
            connectionArn: arn,
            detectChanges: false,
            variables: [{ name: 'MODE', defaultValue: 'quick' }],
            commands: ['cat src/main.c', 'echo mode=#{variables.MODE}', 'sleep "$DELAY"'],
          }),
        }),
      )
      // No delay variable declared: give it through the environment of the declaration instead.
      const decl = declaration({
        name,
        roleArn: role,
        connectionArn: arn,
        detectChanges: false,
        variables: [
          { name: 'MODE', defaultValue: 'quick' },
          { name: 'DELAY', defaultValue: '0' },
        ],
        commands: ['cat src/main.c', 'echo mode=#{variables.MODE}', 'sleep #{variables.DELAY}'],
      })
      const updated = await cp.send(new UpdatePipelineCommand({ pipeline: decl }))
      expect(updated.pipeline!.version).toBe(2)
      const token = 'tok-1'
      const a = await cp.send(
        new StartPipelineExecutionCommand({
          name,
          clientRequestToken: token,
          sourceRevisions: [
            {
              actionName: 'Source',
              revisionType: 'COMMIT_ID',
              revisionValue: f.world.commits.first,
            },
          ],
          variables: [{ name: 'MODE', value: 'full' }],
        }),
      )
      const b = await cp.send(
        new StartPipelineExecutionCommand({ name, clientRequestToken: token }),
      )
      expect(b.pipelineExecutionId).toBe(a.pipelineExecutionId)
      const done = await finished(cp, name, a.pipelineExecutionId!)
      expect(done.status, done.statusSummary).toBe('Succeeded')
      expect(done.artifactRevisions![0]!.revisionId).toBe(f.world.commits.first)
      expect(done.trigger!.triggerType).toBe('StartPipelineExecution')
      expect(done.variables).toEqual(
        expect.arrayContaining([{ name: 'MODE', resolvedValue: 'full' }]),
      )
      const actions = await cp.send(
        new ListActionExecutionsCommand({
          pipelineName: name,
          filter: { pipelineExecutionId: a.pipelineExecutionId },
        }),
      )
      const build = actions.actionExecutionDetails!.find((x) => x.actionName === 'Build')!
      const log = await (await fetch(build.output!.executionResult!.externalExecutionUrl!)).text()
      expect(log).toContain('int main(){return 0;}')
      expect(log).toContain('mode=full')
      const unknown = await rejects(
        cp.send(
          new StartPipelineExecutionCommand({ name, variables: [{ name: 'NOPE', value: 'x' }] }),
        ),
      )
      expect(unknown.name).toBe('ValidationException')
      // A long run, stopped with abandon: the action is Abandoned, the execution Stopped.
      const long = await cp.send(
        new StartPipelineExecutionCommand({ name, variables: [{ name: 'DELAY', value: '60' }] }),
      )
      await waitFor('the build to run', async () => {
        const r = await cp.send(
          new ListActionExecutionsCommand({
            pipelineName: name,
            filter: { pipelineExecutionId: long.pipelineExecutionId },
          }),
        )
        return r.actionExecutionDetails!.some(
          (x) => x.actionName === 'Build' && x.status === 'InProgress',
        )
          ? true
          : undefined
      })
      await cp.send(
        new StopPipelineExecutionCommand({
          pipelineName: name,
          pipelineExecutionId: long.pipelineExecutionId,
          abandon: true,
          reason: 'test',
        }),
      )
      const stopped = await finished(cp, name, long.pipelineExecutionId!)
      expect(stopped.status).toBe('Stopped')
      const again = await rejects(
        cp.send(
          new StopPipelineExecutionCommand({
            pipelineName: name,
            pipelineExecutionId: long.pipelineExecutionId,
          }),
        ),
      )
      expect(again.name).toBe('PipelineExecutionNotStoppableException')
    })

    it('needs PassConnection and iam:PassRole to create, and UseConnection for the role to run', async () => {
      const denied = await userWithPolicy(
        f.iam,
        'no-pass',
        policy({ Effect: 'Allow', Action: ['codepipeline:*', 'iam:PassRole'], Resource: '*' }),
      )
      const cpDenied = pipelineClient(f.server.url, denied)
      const err = await rejects(
        cpDenied.send(
          new CreatePipelineCommand({
            pipeline: declaration({ name: 'denied', roleArn: role, connectionArn: arn }),
          }),
        ),
      )
      expect(err.name).toBe('AccessDeniedException')
      expect(err.message).toMatch(/PassConnection/)
      cpDenied.destroy()
      const allowed = await userWithPolicy(
        f.iam,
        'can-pass',
        policy(
          { Effect: 'Allow', Action: ['codepipeline:*', 'iam:PassRole'], Resource: '*' },
          {
            Effect: 'Allow',
            Action: 'codestar-connections:PassConnection',
            Resource: arn,
            Condition: {
              StringEquals: {
                'codestar-connections:PassedToService': 'codepipeline.amazonaws.com',
              },
            },
          },
        ),
      )
      const narrow = await pipelineRole(
        f.iam,
        'narrow-role',
        policy({
          Effect: 'Allow',
          Action: 'codestar-connections:UseConnection',
          Resource: '*',
          Condition: { StringEquals: { 'codestar-connections:FullRepositoryId': 'acme/lib' } },
        }),
      )
      const cpAllowed = pipelineClient(f.server.url, allowed)
      await cpAllowed.send(
        new CreatePipelineCommand({
          pipeline: declaration({ name: 'narrow', roleArn: narrow, connectionArn: arn }),
        }),
      )
      cpAllowed.destroy()
      const [first] = await waitFor('the first run', async () => {
        const e = await executions(cp, 'narrow')
        return e.length > 0 ? e : undefined
      })
      const done = await finished(cp, 'narrow', first!.pipelineExecutionId!)
      expect(done.status).toBe('Failed')
      expect(done.statusSummary).toMatch(/Source.*AccessDenied.*UseConnection/s)
    })

    it('a deleted connection stops its webhook and fails later source runs with a clear message', async () => {
      const other = await newConnection(f)
      await completeWithToken(f, other)
      await cp.send(
        new CreatePipelineCommand({
          pipeline: declaration({
            name: 'lib',
            roleArn: role,
            connectionArn: other,
            repository: 'acme/lib',
          }),
        }),
      )
      await waitFor('the lib webhook', async () =>
        (await hooks()).length === 2 ? true : undefined,
      )
      await f.sdk.send(new DeleteConnectionCommand({ ConnectionArn: other }))
      await waitFor('the lib webhook to go', async () =>
        (await hooks()).length === 1 ? true : undefined,
      )
      const r = await cp.send(new StartPipelineExecutionCommand({ name: 'lib' }))
      const done = await finished(cp, 'lib', r.pipelineExecutionId!)
      expect(done.status).toBe('Failed')
      expect(done.statusSummary).toMatch(/no longer exists \(it was deleted\)/)
      await cp.send(new DeletePipelineCommand({ name: 'lib' }))
      const gone = await rejects(cp.send(new GetPipelineCommand({ name: 'lib' })))
      expect(gone.name).toBe('PipelineNotFoundException')
      // Its history, artifacts and logs went with it: a new pipeline of that name starts afresh.
      expect(existsSync(join(f.server.dataDir, 'artifacts', ACCOUNT, 'lib'))).toBe(false)
      await cp.send(
        new CreatePipelineCommand({
          pipeline: declaration({
            name: 'lib',
            roleArn: role,
            connectionArn: arn,
            repository: 'acme/lib',
          }),
        }),
      )
      const fresh = await executions(cp, 'lib')
      expect(fresh.map((e) => e.trigger!.triggerType)).toEqual(['CreatePipeline'])
      await finished(cp, 'lib', fresh[0]!.pipelineExecutionId!)
    })
  })
}
