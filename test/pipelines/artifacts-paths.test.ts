/**
 * Names users choose never become paths as they are (issue 11, item 5). CodePipeline's pattern
 * admits pipelines, stages and actions named `.`, `..`, `...` or `a..b`: each is created, run and
 * deleted through the SDK while another pipeline's artifacts and logs must survive untouched, and
 * nothing may appear in the data directory outside the artifact store. Before the fix, deleting
 * the pipeline `..` removed the whole artifact store and `.` removed the account's folder.
 */
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import {
  CreatePipelineCommand,
  DeletePipelineCommand,
  ListActionExecutionsCommand,
  type ActionDeclaration,
  type CodePipelineClient,
  type PipelineDeclaration,
} from '@aws-sdk/client-codepipeline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ConnectFixture } from '../helpers/connect.js'
import {
  declaration,
  executions,
  finished,
  startPipelineFixture,
  stopPipelineFixture,
  waitFor,
} from '../helpers/pipelines.js'

const ACCOUNT = '000000000000'
const NAMES = ['.', '..', '...', 'a..b']
/** The folder each of those names gets in the artifact store. */
const FOLDERS: Record<string, string> = { '.': '%2E', '..': '%2E%2E', '...': '...', 'a..b': 'a..b' }

/** A pipeline whose stages, actions and artifacts all have odd names. */
function oddPipeline(name: string, roleArn: string, connectionArn: string): PipelineDeclaration {
  const commands = (o: Omit<ActionDeclaration, 'actionTypeId'>): ActionDeclaration => ({
    actionTypeId: {
      category: 'Compute' as const,
      owner: 'AWS' as const,
      provider: 'Commands',
      version: '1',
    },
    ...o,
  })
  return {
    name,
    roleArn,
    artifactStore: { type: 'S3', location: 'junction-artifacts' },
    pipelineType: 'V2',
    stages: [
      {
        name: '.',
        actions: [
          {
            name: '..',
            actionTypeId: {
              category: 'Source',
              owner: 'AWS',
              provider: 'CodeStarSourceConnection',
              version: '1',
            },
            configuration: {
              ConnectionArn: connectionArn,
              FullRepositoryId: 'acme/app',
              BranchName: 'main',
            },
            outputArtifacts: [{ name: '-' }],
          },
        ],
      },
      {
        name: '..',
        actions: [
          commands({
            name: '.',
            runOrder: 1,
            commands: [
              'mkdir -p out',
              `printf 'made by %s\\n' "$CODEPIPELINE_PIPELINE_NAME" > out/x`,
            ],
            inputArtifacts: [{ name: '-' }],
            outputArtifacts: [{ name: '_', files: ['out/**'] }],
          }),
          commands({
            name: '...',
            runOrder: 2,
            commands: ['ls README.md', 'cat "$JUNCTION_SRC_DIR__/out/x"'],
            inputArtifacts: [{ name: '-' }, { name: '_' }],
          }),
        ],
      },
    ],
  }
}

describe('names that are not safe as paths [sqlite]', () => {
  let f: ConnectFixture
  let cp: CodePipelineClient
  let arn: string
  let role: string
  beforeAll(async () => {
    ;({ f, cp, arn, role } = await startPipelineFixture('sqlite', { 'enable-commands': true }))
  })
  afterAll(() => stopPipelineFixture({ f, cp }))

  const store = () => join(f.server.dataDir, 'artifacts')
  const firstRun = async (name: string) => {
    const [first] = await waitFor(`the first run of ${name}`, async () => {
      const e = await executions(cp, name)
      return e.length > 0 ? e : undefined
    })
    return finished(cp, name, first!.pipelineExecutionId!)
  }
  const logs = async (pipelineName: string, id: string) => {
    const r = await cp.send(
      new ListActionExecutionsCommand({ pipelineName, filter: { pipelineExecutionId: id } }),
    )
    const out: Record<string, string> = {}
    for (const a of r.actionExecutionDetails ?? []) {
      const url = a.output?.executionResult?.externalExecutionUrl
      if (url && url.includes('/pipelines/logs/')) {
        const res = await fetch(url)
        expect(res.status).toBe(200)
        out[a.actionName!] = await res.text()
      }
    }
    return out
  }
  /** Every path under the data directory (folders end in /). */
  const tree = (dir = f.server.dataDir, prefix = ''): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory()
        ? [`${prefix}${e.name}/`, ...tree(join(dir, e.name), `${prefix}${e.name}/`)]
        : [`${prefix}${e.name}`],
    )

  it('runs and deletes pipelines named ., .., ... and a..b without touching another pipeline', async () => {
    await cp.send(
      new CreatePipelineCommand({
        pipeline: declaration({
          name: 'bystander',
          roleArn: role,
          connectionArn: arn,
          commands: ['echo bystander was here'],
        }),
      }),
    )
    const kept = await firstRun('bystander')
    expect(kept.status, kept.statusSummary).toBe('Succeeded')
    const keptDir = join(store(), ACCOUNT, 'bystander', kept.pipelineExecutionId!)
    const keptFiles = readdirSync(keptDir).sort()
    expect(keptFiles).toContain('SourceArtifact.zip')
    const keptLog = (await logs('bystander', kept.pipelineExecutionId!))['Build']
    expect(keptLog).toContain('bystander was here')
    const outside = () => tree().filter((p) => !p.startsWith('artifacts/'))
    const outsideBefore = outside()

    for (const name of NAMES) {
      await cp.send(new CreatePipelineCommand({ pipeline: oddPipeline(name, role, arn) }))
      const done = await firstRun(name)
      expect(done.status, `${name}: ${done.statusSummary}`).toBe('Succeeded')
      const log = await logs(name, done.pipelineExecutionId!)
      expect(log['...']).toContain(`made by ${name}`)
    }
    for (const name of NAMES) {
      await cp.send(new DeletePipelineCommand({ name }))
      // The other pipeline's artifacts and logs are all still there.
      expect(readdirSync(keptDir).sort()).toEqual(keptFiles)
      expect((await logs('bystander', kept.pipelineExecutionId!))['Build']).toBe(keptLog)
    }
    // Nothing was written in the data directory outside the artifact store, and each deleted
    // pipeline took its own folder with it.
    expect(outside()).toEqual(outsideBefore)
    expect(readdirSync(join(store(), ACCOUNT))).toEqual(['bystander'])
  })

  it('keeps each name in a folder of its own, under an encoded name', async () => {
    for (const name of NAMES) {
      await cp.send(new CreatePipelineCommand({ pipeline: oddPipeline(name, role, arn) }))
      const done = await firstRun(name)
      expect(done.status, `${name}: ${done.statusSummary}`).toBe('Succeeded')
      const dir = join(store(), ACCOUNT, FOLDERS[name]!, done.pipelineExecutionId!)
      expect(readdirSync(dir).sort()).toEqual(['-.zip', '_.zip', 'logs'])
    }
    expect(readdirSync(join(store(), ACCOUNT)).sort()).toEqual(
      ['bystander', ...NAMES.map((n) => FOLDERS[n]!)].sort(),
    )
    for (const name of NAMES) {
      await cp.send(new DeletePipelineCommand({ name }))
      expect(existsSync(join(store(), ACCOUNT, FOLDERS[name]!))).toBe(false)
    }
    expect(readdirSync(join(store(), ACCOUNT))).toEqual(['bystander'])
  })

  it('refuses names outside the pattern with a ValidationException', async () => {
    for (const name of ['a/b', '../x', 'a b', '']) {
      const err = await cp
        .send(
          new CreatePipelineCommand({
            pipeline: declaration({ name, roleArn: role, connectionArn: arn }),
          }),
        )
        .then(
          () => undefined,
          (e: { name: string; $metadata: { httpStatusCode?: number } }) => e,
        )
      expect(err?.name, name).toBe('ValidationException')
      expect(err?.$metadata.httpStatusCode).toBe(400)
    }
    expect(existsSync(join(store(), ACCOUNT, 'a'))).toBe(false)
  })
})
