/**
 * The engine's steps at the moments that matter, made to happen on purpose (a hook at the
 * store of an in-process node): an abandon that lands after an action was recorded InProgress and
 * before its build started still stops it; a node that dies right after the store recorded an
 * action's success leaves the execution to another node with that action's artifacts (or the
 * action to run again), never with the action done and its outputs lost.
 */
import {
  CreatePipelineCommand,
  ListActionExecutionsCommand,
  StartPipelineExecutionCommand,
  StopPipelineExecutionCommand,
  type CodePipelineClient,
} from '@aws-sdk/client-codepipeline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startWiredJunction } from '../helpers/bitbucket.js'
import type { ConnectFixture } from '../helpers/connect.js'
import { testEngines } from '../helpers/engines.js'
import {
  declaration,
  finished,
  pipelineClient,
  startPipelineFixture,
  stopPipelineFixture,
} from '../helpers/pipelines.js'
import type { TestServer } from '../helpers/server.js'
import { actionWritten, hookPipelineStore, type StoreHooks } from '../helpers/store-hooks.js'

for (const engine of testEngines()) {
  describe(`engine steps at the edges [${engine}]`, () => {
    let f: ConnectFixture
    let cp: CodePipelineClient
    let arn: string
    let role: string
    let second: TestServer | undefined
    let killed: StoreHooks | undefined
    beforeAll(async () => {
      ;({ f, cp, arn, role } = await startPipelineFixture(engine, {
        'enable-commands': true,
        'work-lease': '1',
      }))
    }, 60_000)
    afterAll(async () => {
      await second?.stop()
      killed?.end()
      await stopPipelineFixture({ f, cp })
    })

    const actions = async (name: string, id: string) =>
      (
        await cp.send(
          new ListActionExecutionsCommand({
            pipelineName: name,
            filter: { pipelineExecutionId: id },
          }),
        )
      ).actionExecutionDetails ?? []

    it('an abandon recorded before the build starts stops the build', async () => {
      const name = 'abandon-early'
      await cp.send(
        new CreatePipelineCommand({
          pipeline: declaration({
            name,
            roleArn: role,
            connectionArn: arn,
            detectChanges: false,
            variables: [{ name: 'DELAY', defaultValue: '0' }],
            commands: ['sleep #{variables.DELAY}'],
          }),
        }),
      )
      // Right after the Build is recorded InProgress (before its build is prepared and started),
      // the execution is stopped with abandon.
      let ours!: (id: string) => void
      const id = new Promise<string>((r) => (ours = r))
      let stop: Promise<unknown> | undefined
      hookPipelineStore(f.server.store, async (_call, args) => {
        const a = actionWritten(args)
        if (stop || a?.pipelineName !== name || a.actionName !== 'Build') return
        if (a.status !== 'InProgress' || a.executionId !== (await id)) return
        stop = cp.send(
          new StopPipelineExecutionCommand({
            pipelineName: name,
            pipelineExecutionId: a.executionId,
            abandon: true,
            reason: 'early',
          }),
        )
        await stop
      })
      const started = Date.now()
      const r = await cp.send(
        new StartPipelineExecutionCommand({ name, variables: [{ name: 'DELAY', value: '60' }] }),
      )
      ours(r.pipelineExecutionId!)
      const done = await finished(cp, name, r.pipelineExecutionId!)
      expect(stop).toBeDefined()
      expect(done.status).toBe('Stopped')
      // Well before the build's 60 seconds.
      expect(Date.now() - started).toBeLessThan(20_000)
      const build = (await actions(name, r.pipelineExecutionId!)).find(
        (x) => x.actionName === 'Build',
      )
      expect(build?.status).toBe('Abandoned')
    })

    // Two nodes share a database on PostgreSQL only (a SQLite file is one process's).
    it.skipIf(engine !== 'postgres')(
      'a node killed right after an action’s success was recorded leaves its artifacts to the next',
      async () => {
        const name = 'takeover'
        // The first node dies as soon as the store has recorded the Source action's success (of
        // the execution the pipeline's creation starts).
        let died!: (id: string) => void
        const dead = new Promise<string>((r) => (died = r))
        killed = hookPipelineStore(f.server.store, (_call, args, hooks) => {
          const a = actionWritten(args)
          if (a?.pipelineName === name && a.actionName === 'Source' && a.status === 'Succeeded') {
            hooks.freeze()
            died(a.executionId)
          }
        })
        await cp.send(
          new CreatePipelineCommand({
            pipeline: declaration({
              name,
              roleArn: role,
              connectionArn: arn,
              detectChanges: false,
              commands: ['ls'],
            }),
          }),
        )
        const id = await dead
        cp.destroy()
        // A second node on the same database and data folder takes the execution over once the
        // first one's lease runs out.
        second = await startWiredJunction(engine, f.sb, {
          'data-dir': f.server.dataDir,
          database: f.server.database,
          'enable-commands': true,
          'work-lease': '1',
        })
        cp = pipelineClient(second.url, f.server.credentials)
        const done = await finished(cp, name, id)
        expect(done.status, done.statusSummary).toBe('Succeeded')
        const all = await actions(name, id)
        expect(all.map((x) => [x.actionName, x.status]).sort()).toEqual([
          ['Build', 'Succeeded'],
          ['Source', 'Succeeded'],
        ])
      },
      60_000,
    )
  })
}
