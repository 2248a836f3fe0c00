/**
 * More of the pipeline engine on the sandbox Bitbucket: pull-request triggers (changed files from
 * the merge base), CODEBUILD_CLONE_REF artifacts cloned through the connection, execution modes
 * (SUPERSEDED and QUEUED), the polling fallback, and the Commands action refused without
 * --enable-commands.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  CreatePipelineCommand,
  ListActionExecutionsCommand,
  StartPipelineExecutionCommand,
  type CodePipelineClient,
} from '@aws-sdk/client-codepipeline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  completeWithToken,
  newConnection,
  startConnectFixture,
  stopConnectFixture,
  type ConnectFixture,
} from '../helpers/connect.js'
import { testEngines } from '../helpers/engines.js'
import { oauthCredentials, sandboxProvider } from '../helpers/bitbucket.js'
import {
  actionLog,
  declaration,
  executions,
  finished,
  pipelineClient,
  pipelineRole,
  startPipelineFixture,
  stopPipelineFixture,
  waitFor,
} from '../helpers/pipelines.js'

const ACCOUNT = '000000000000'

for (const engine of testEngines()) {
  describe(`pipeline features [${engine}]`, () => {
    let f: ConnectFixture
    let cp: CodePipelineClient
    let arn: string
    let role: string
    beforeAll(async () => {
      ;({ f, cp, arn, role } = await startPipelineFixture(engine, {
        'enable-commands': true,
        'poll-interval': '1',
      }))
    })
    afterAll(() => stopPipelineFixture({ f, cp }))

    const commit = (repo: string, branch: string, files: Record<string, string | null>) =>
      f.sb.admin<{ commit: string }>(`repositories/${repo}/commits`, {
        branch,
        message: `change on ${branch}`,
        author: 'alice',
        files,
      })
    const logOf = async (pipelineName: string, id: string, action = 'Build') =>
      actionLog(cp, pipelineName, id, action)
    const afterFirst = async (name: string) => {
      const [first] = await waitFor(`the first run of ${name}`, async () => {
        const e = await executions(cp, name)
        return e.length > 0 ? e : undefined
      })
      return finished(cp, name, first!.pipelineExecutionId!)
    }

    it('starts on a pull request that touches the filtered paths, with its source head', async () => {
      await cp.send(
        new CreatePipelineCommand({
          pipeline: declaration({
            name: 'pr-src',
            roleArn: role,
            connectionArn: arn,
            commands: ['cat src/feature.c'],
            triggers: [
              {
                providerType: 'CodeStarSourceConnection',
                gitConfiguration: {
                  sourceActionName: 'Source',
                  pullRequest: [
                    {
                      events: ['OPEN', 'UPDATED'],
                      branches: { includes: ['main'] },
                      filePaths: { includes: ['src/**'] },
                    },
                  ],
                },
              },
            ],
          }),
        }),
      )
      await afterFirst('pr-src')
      const head = await commit('acme/app', 'feature/pr', { 'src/feature.c': 'int feature;\n' })
      const alice = await oauthCredentials(f.sb, sandboxProvider(f.sb), f.world.alice)
      const pr = await fetch(`${f.sb.apiUrl}/repositories/acme/app/pullrequests`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${alice.accessToken}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          title: 'Feature',
          source: { branch: { name: 'feature/pr' } },
          destination: { branch: { name: 'main' } },
        }),
      })
      expect(pr.status).toBe(201)
      const run = await waitFor('the pull-request run', async () =>
        (await executions(cp, 'pr-src')).find((e) => e.trigger!.triggerType === 'WebhookV2'),
      )
      const done = await finished(cp, 'pr-src', run.pipelineExecutionId!)
      expect(done.status, done.statusSummary).toBe('Succeeded')
      expect(done.artifactRevisions![0]!.revisionId).toBe(head.commit)
      expect(await logOf('pr-src', run.pipelineExecutionId!)).toContain('int feature;')
      const source = (
        await cp.send(
          new ListActionExecutionsCommand({
            pipelineName: 'pr-src',
            filter: { pipelineExecutionId: run.pipelineExecutionId },
          }),
        )
      ).actionExecutionDetails!.find((a) => a.actionName === 'Source')!
      expect(source.output!.outputVariables!['BranchName']).toBe('feature/pr')
    })

    it('writes a CODEBUILD_CLONE_REF reference without credentials, and Commands clone through it', async () => {
      await cp.send(
        new CreatePipelineCommand({
          pipeline: declaration({
            name: 'clone-ref',
            roleArn: role,
            connectionArn: arn,
            format: 'CODEBUILD_CLONE_REF',
            commands: ['git log --format=%s', 'git rev-parse HEAD', 'test -d .git'],
          }),
        }),
      )
      const done = await afterFirst('clone-ref')
      expect(done.status, done.statusSummary).toBe('Succeeded')
      const ref = readFileSync(
        join(
          f.server.dataDir,
          'artifacts',
          ACCOUNT,
          'clone-ref',
          done.pipelineExecutionId!,
          'SourceArtifact.json',
        ),
        'utf8',
      )
      expect(JSON.parse(ref)).toMatchObject({
        connectionArn: arn,
        fullRepositoryId: 'acme/app',
        branch: 'main',
        commitId: done.artifactRevisions![0]!.revisionId,
      })
      expect(ref).not.toContain(f.world.acmeToken)
      const log = await logOf('clone-ref', done.pipelineExecutionId!)
      // Full history, checked out at the source commit.
      expect(log).toContain('Second commit')
      expect(log).toContain('Initial commit')
      expect(log).toContain(done.artifactRevisions![0]!.revisionId!)
      expect(log).not.toContain(f.world.acmeToken)
    })

    it('SUPERSEDED lets the newest waiting execution win; QUEUED runs every one in order', async () => {
      for (const mode of ['SUPERSEDED', 'QUEUED'] as const) {
        const name = `mode-${mode.toLowerCase()}`
        await cp.send(
          new CreatePipelineCommand({
            pipeline: declaration({
              name,
              roleArn: role,
              connectionArn: arn,
              detectChanges: false,
              executionMode: mode,
              commands: ['sleep 2'],
            }),
          }),
        )
        await afterFirst(name)
        const ids: string[] = []
        for (let i = 0; i < 3; i++)
          ids.push(
            (await cp.send(new StartPipelineExecutionCommand({ name }))).pipelineExecutionId!,
          )
        const statuses: string[] = []
        for (const id of ids) statuses.push((await finished(cp, name, id)).status!)
        if (mode === 'SUPERSEDED') {
          expect(statuses[2]).toBe('Succeeded')
          expect(statuses).toContain('Superseded')
        } else expect(statuses).toEqual(['Succeeded', 'Succeeded', 'Succeeded'])
        // Never two executions in the Build stage at once.
        const builds = (
          await cp.send(new ListActionExecutionsCommand({ pipelineName: name }))
        ).actionExecutionDetails!.filter(
          (a) => a.actionName === 'Build' && a.status === 'Succeeded',
        )
        const spans = builds
          .map((b) => [b.startTime!.getTime(), b.lastUpdateTime!.getTime()] as const)
          .sort((x, y) => x[0] - y[0])
        for (let i = 1; i < spans.length; i++)
          expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1] - 5)
      }
      // Eight builds of two seconds each, one after the other: longer than the default limit.
    }, 90_000)

    it('polls a repository whose webhook cannot be registered, and starts on a new head', async () => {
      // The sandbox refuses the webhook registration (a provider outage), and only that request:
      // background calls (polls, other repositories) cannot take the injected failure.
      await f.sb.admin('failures', {
        count: 1,
        status: 500,
        method: 'POST',
        path: '/2.0/repositories/acme/lib/hooks',
      })
      await cp.send(
        new CreatePipelineCommand({
          pipeline: declaration({
            name: 'polled',
            roleArn: role,
            connectionArn: arn,
            repository: 'acme/lib',
            commands: ['cat lib.txt'],
          }),
        }),
      )
      await afterFirst('polled')
      const hooks = (await f.sb.admin<{ hooks: { url: string; slug?: string }[] }>('hooks')).hooks
      expect(hooks.filter((h) => JSON.stringify(h).includes('lib')).length).toBe(0)
      // Let a poll record the current head first.
      await waitFor('the first poll', async () =>
        (await f.server.store.pipelines.polls.get(ACCOUNT, arn, 'acme/lib', 'main'))
          ? true
          : undefined,
      )
      const head = await commit('acme/lib', 'main', { 'lib.txt': 'lib v2\n' })
      const run = await waitFor(
        'the polled run',
        async () =>
          (await executions(cp, 'polled')).find(
            (e) => e.trigger!.triggerType === 'PollForSourceChanges',
          ),
        15_000,
      )
      const done = await finished(cp, 'polled', run.pipelineExecutionId!)
      expect(done.artifactRevisions![0]!.revisionId).toBe(head.commit)
      expect(await logOf('polled', run.pipelineExecutionId!)).toContain('lib v2')
    })
  })
}

describe('the Commands action', () => {
  let f: ConnectFixture
  let cp: CodePipelineClient
  let arn: string
  let role: string
  beforeAll(async () => {
    process.env['JUNCTION_TEST_SECRET_ENV'] = 'must-not-leak'
    ;({ f, cp, arn, role } = await startPipelineFixture('sqlite', {
      'enable-commands': true,
      'commands-timeout': '2',
    }))
  })
  afterAll(async () => {
    delete process.env['JUNCTION_TEST_SECRET_ENV']
    await stopPipelineFixture({ f, cp })
  })

  const compute = (name: string, extra: Record<string, unknown>) => ({
    name,
    actionTypeId: { category: 'Compute', owner: 'AWS', provider: 'Commands', version: '1' },
    ...extra,
  })

  it('runs actions by runOrder, passes artifacts and variables on, in a clean environment', async () => {
    const base = declaration({
      name: 'chain',
      roleArn: role,
      connectionArn: arn,
      detectChanges: false,
    })
    const pipeline = {
      ...base,
      stages: [
        base.stages![0]!,
        {
          name: 'Build',
          actions: [
            compute('Make', {
              runOrder: 1,
              namespace: 'Make',
              inputArtifacts: [{ name: 'SourceArtifact' }],
              outputArtifacts: [{ name: 'Out', files: ['out/**'] }],
              outputVariables: ['VERSION'],
              environmentVariables: [
                { name: 'GREETING', value: 'hello #{SourceVariables.BranchName}' },
              ],
              commands: [
                'mkdir -p out/bin',
                'echo "$GREETING" > out/a.txt',
                'printf "#!/bin/sh\\necho tool\\n" > out/bin/tool && chmod +x out/bin/tool',
                'env | sort > out/env.txt',
                'export VERSION=1.2.3',
              ],
            }),
            compute('Check', {
              runOrder: 2,
              inputArtifacts: [{ name: 'Out' }, { name: 'SourceArtifact' }],
              commands: [
                'cat out/a.txt',
                './out/bin/tool',
                'echo version=#{Make.VERSION}',
                'test -f "$JUNCTION_SRC_DIR_SourceArtifact/README.md"',
                'cat out/env.txt',
              ],
            }),
          ],
        },
        {
          name: 'Later',
          actions: [
            compute('Fail', {
              inputArtifacts: [{ name: 'Out' }],
              commands: ['echo about to fail', 'exit 3', 'echo never'],
            }),
          ],
        },
      ],
    }
    await cp.send(new CreatePipelineCommand({ pipeline: pipeline as never }))
    const [first] = await waitFor('the run', async () => {
      const e = await executions(cp, 'chain')
      return e.length ? e : undefined
    })
    const done = await finished(cp, 'chain', first!.pipelineExecutionId!)
    // The last stage fails: the execution fails, naming the action and why.
    expect(done.status).toBe('Failed')
    expect(done.statusSummary).toMatch(/Action Fail in stage Later failed: .*status 3/)
    const actions = (
      await cp.send(
        new ListActionExecutionsCommand({
          pipelineName: 'chain',
          filter: { pipelineExecutionId: first!.pipelineExecutionId },
        }),
      )
    ).actionExecutionDetails!
    const by = (n: string) => actions.find((a) => a.actionName === n)!
    expect(by('Make').output!.outputVariables).toEqual({ VERSION: '1.2.3' })
    expect(by('Make').lastUpdateTime!.getTime()).toBeLessThanOrEqual(
      by('Check').startTime!.getTime(),
    )
    const log = await (
      await fetch(by('Check').output!.executionResult!.externalExecutionUrl!)
    ).text()
    expect(log).toContain('hello main')
    expect(log).toContain('tool')
    expect(log).toContain('version=1.2.3')
    expect(log).not.toContain('JUNCTION_TEST_SECRET_ENV')
    expect(log).not.toContain('TEST_DATABASE_URL')
    expect(log).toMatch(/^GREETING=hello main$/m)
    const failLog = await (
      await fetch(by('Fail').output!.executionResult!.externalExecutionUrl!)
    ).text()
    expect(failLog).toContain('about to fail')
    expect(failLog).not.toContain('never')
    expect(failLog).toMatch(/exited with status 3/)
  })

  it('stops commands at the time limit', async () => {
    await cp.send(
      new CreatePipelineCommand({
        pipeline: declaration({
          name: 'slow',
          roleArn: role,
          connectionArn: arn,
          detectChanges: false,
          commands: ['echo started', 'sleep 30', 'echo finished'],
        }),
      }),
    )
    const [first] = await waitFor('the run', async () => {
      const e = await executions(cp, 'slow')
      return e.length ? e : undefined
    })
    const started = Date.now()
    const done = await finished(cp, 'slow', first!.pipelineExecutionId!)
    expect(done.status).toBe('Failed')
    expect(done.statusSummary).toMatch(/exceeded the time limit of 2 seconds/)
    expect(Date.now() - started).toBeLessThan(20_000)
  })

  it("keeps finished executions' artifacts and logs for the retention, then sweeps them", async () => {
    const root = join(f.server.dataDir, 'artifacts', ACCOUNT)
    const folders = () =>
      readdirSync(root).flatMap((p) => readdirSync(join(root, p)).map((e) => `${p}/${e}`))
    const before = folders()
    expect(before.length).toBeGreaterThanOrEqual(2)
    expect(await f.server.pipelines.sweepArtifacts(Date.now())).toBe(0)
    expect(folders()).toEqual(before)
    const day = 86_400_000
    expect(await f.server.pipelines.sweepArtifacts(Date.now() + 31 * day)).toBe(before.length)
    expect(folders()).toEqual([])
    // The records stay.
    expect((await executions(cp, 'chain')).length).toBe(1)
  })
})

describe('Commands without --enable-commands', () => {
  let f: ConnectFixture
  afterAll(() => stopConnectFixture(f))
  it('fails the action with a message that says why', async () => {
    f = await startConnectFixture('sqlite')
    const cp = pipelineClient(f.server.url, f.server.credentials)
    const arn = await newConnection(f)
    await completeWithToken(f, arn)
    const role = await pipelineRole(f.iam, 'pipeline-role')
    await cp.send(
      new CreatePipelineCommand({
        pipeline: declaration({ name: 'cmds', roleArn: role, connectionArn: arn }),
      }),
    )
    const [first] = await waitFor('the first run', async () => {
      const e = await executions(cp, 'cmds')
      return e.length > 0 ? e : undefined
    })
    const done = await finished(cp, 'cmds', first!.pipelineExecutionId!)
    expect(done.status).toBe('Failed')
    expect(done.statusSummary).toMatch(/--enable-commands/)
    cp.destroy()
  })
})
