/**
 * A pipeline whose GitLab source names its project by numeric id (`FullRepositoryId: "<id>"`), on
 * the sandbox GitLab: the declaration validates, Junction's hook is registered on the project the
 * id names (recorded for its path), a push to it starts the pipeline (and one naming the same
 * project by path: an event is matched by id and by path), and the source action fetches that
 * project's tree at the pushed commit. The adapter polls by id as by path. An id longer than 20
 * digits is refused.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { CreatePipelineCommand, ListActionExecutionsCommand } from '@aws-sdk/client-codepipeline'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { GitLabProvider } from '../../src/providers/gitlab/gitlab-provider.js'
import { testEngines } from '../helpers/engines.js'
import {
  ACCOUNT,
  glCommit,
  glHooks,
  glOutcomes,
  PROJECT,
  pushOf,
  startGlPipelineFixture,
  stopGlPipelineFixture,
  type GlPipelineFixture,
} from '../helpers/gitlab-pipelines.js'
import { declaration, executions, finished, waitFor } from '../helpers/pipelines.js'

vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 })

for (const engine of testEngines()) {
  describe(`GitLab source named by project id [${engine}]`, () => {
    let f: GlPipelineFixture
    let id: string
    beforeAll(async () => {
      f = await startGlPipelineFixture(engine)
      const r = await f.sb.get(`/projects/${encodeURIComponent(PROJECT)}`, f.sb.token('alice-api'))
      id = String(((await r.json()) as { id: number }).id)
    })
    afterAll(() => stopGlPipelineFixture(f))

    const create = (name: string, repository: string) =>
      f.cp.send(
        new CreatePipelineCommand({
          pipeline: declaration({
            name,
            roleArn: f.role,
            connectionArn: f.arn,
            repository,
            triggers: [
              {
                providerType: 'CodeStarSourceConnection',
                gitConfiguration: {
                  sourceActionName: 'Source',
                  push: [{ branches: { includes: ['main'] } }],
                },
              },
            ],
          }),
        }),
      )
    const runs = async (name: string) =>
      (await executions(f.cp, name))
        .filter((e) => e.trigger!.triggerType !== 'CreatePipeline')
        .reverse()
    /** The source action of an execution (its Build is a Commands action, not enabled here). */
    const sourceOf = async (name: string, execution: string) =>
      (
        await f.cp.send(
          new ListActionExecutionsCommand({
            pipelineName: name,
            filter: { pipelineExecutionId: execution },
          }),
        )
      ).actionExecutionDetails!.find((a) => a.actionName === 'Source')!
    const files = (name: string, execution: string) =>
      execFileSync(
        'unzip',
        [
          '-Z1',
          join(f.server.dataDir, 'artifacts', ACCOUNT, name, execution, 'SourceArtifact.zip'),
        ],
        { encoding: 'utf8' },
      )
        .split('\n')
        .filter((x) => x && !x.endsWith('/'))
        .sort()
    const fileText = (name: string, execution: string, path: string) =>
      execFileSync(
        'unzip',
        [
          '-p',
          join(f.server.dataDir, 'artifacts', ACCOUNT, name, execution, 'SourceArtifact.zip'),
          path,
        ],
        { encoding: 'utf8' },
      )

    it('polls by id: the adapter reads the same branch heads for the id as for the path', async () => {
      const gl = new GitLabProvider({ endpoints: { webUrl: f.sb.url, apiUrl: f.sb.apiUrl } })
      const c = { kind: 'access-token' as const, accessToken: f.sb.token('alice-api') }
      const byId = await gl.branchHeads(c, id, ['main', 'gone'])
      const byPath = await gl.branchHeads(c, PROJECT, ['main', 'gone'])
      expect([...byId.heads.entries()]).toEqual([...byPath.heads.entries()])
      expect([...byId.heads.keys()]).toEqual(['main'])
    })

    it('refuses an id of more than 20 digits', async () => {
      await expect(create('gl-id-long', '1'.repeat(21))).rejects.toMatchObject({
        name: 'InvalidActionDeclarationException',
      })
    })

    it('validates, registers the hook on the project, is started by a push and fetches its tree', async () => {
      expect(id).toMatch(/^[0-9]+$/)
      await create('gl-by-id', id)
      await create('gl-by-path', PROJECT)
      // The creation run fetches the source by id already.
      const [first] = await waitFor('the creation run', async () => {
        const e = await executions(f.cp, 'gl-by-id')
        return e.length > 0 ? e : undefined
      })
      await finished(f.cp, 'gl-by-id', first!.pipelineExecutionId!)
      expect((await sourceOf('gl-by-id', first!.pipelineExecutionId!)).status).toBe('Succeeded')
      expect(files('gl-by-id', first!.pipelineExecutionId!)).toEqual(['README.md', 'src/main.c'])
      // One hook on the project (both pipelines share it), recorded for the path.
      await waitFor('the project hook', async () =>
        (await glHooks(f)).length > 0 ? true : undefined,
      )
      expect(await glHooks(f)).toHaveLength(1)
      const hooks = await f.server.store.webhooks.all()
      expect(hooks.map((w) => w.repository)).toEqual([PROJECT])

      const pushed = await glCommit(f, 'main', { 'id.txt': `by id ${id}\n` })
      const outcomes = await glOutcomes(f, 'the push', pushOf('main', { after: pushed }))
      expect(
        outcomes
          .filter((o) => o.started)
          .map((o) => o.pipeline)
          .sort(),
      ).toEqual(['gl-by-id', 'gl-by-path'])
      for (const name of ['gl-by-id', 'gl-by-path']) {
        const run = await waitFor(`the run of ${name}`, async () => (await runs(name))[0])
        const done = await finished(f.cp, name, run.pipelineExecutionId!)
        expect((await sourceOf(name, run.pipelineExecutionId!)).status).toBe('Succeeded')
        expect(done.trigger!.triggerType).toBe('WebhookV2')
        expect(done.artifactRevisions![0]!.revisionId).toBe(pushed)
        expect(files(name, run.pipelineExecutionId!)).toEqual(['README.md', 'id.txt', 'src/main.c'])
        expect(fileText(name, run.pipelineExecutionId!, 'id.txt')).toBe(`by id ${id}\n`)
      }
    })
  })
}
