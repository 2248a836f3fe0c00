/**
 * The CodePipeline subset through the AWS CLI (botocore, an independent client): create a pipeline
 * from a JSON file, start it, read its executions, action executions and state, stop, tag, delete.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it, vi } from 'vitest'
import { describeWith, needs } from '../helpers/requirements.js'
import { run, writeAwsConfig } from '../helpers/aws-cli.js'
import {
  completeWithToken,
  newConnection,
  startConnectFixture,
  stopConnectFixture,
  type ConnectFixture,
} from '../helpers/connect.js'
import { declaration, pipelineRole, waitFor } from '../helpers/pipelines.js'

// Every `aws` call starts Python (about a second): these cases run tens of them in a row.
vi.setConfig({ testTimeout: 120_000 })

describeWith(needs.aws)('aws codepipeline', () => {
  let f: ConnectFixture
  let arn: string
  let role: string
  beforeAll(async () => {
    f = await startConnectFixture('sqlite', { 'enable-commands': true })
    writeAwsConfig(f.server)
    arn = await newConnection(f)
    await completeWithToken(f, arn)
    role = await pipelineRole(f.iam, 'pipeline-role')
  })
  afterAll(() => stopConnectFixture(f))

  const env = () => ({
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    AWS_SHARED_CREDENTIALS_FILE: join(f.server.dataDir, 'credentials'),
    AWS_CONFIG_FILE: join(f.server.dataDir, 'aws-config'),
    AWS_PAGER: '',
  })
  const aws = async (...args: string[]) => {
    const { stdout } = await run(
      'aws',
      [
        '--profile',
        'junction',
        '--endpoint-url',
        f.server.url,
        '--output',
        'json',
        'codepipeline',
        ...args,
      ],
      { env: env() },
    )
    return stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : {}
  }
  const awsError = async (...args: string[]) => {
    try {
      await aws(...args)
    } catch (err) {
      return (err as { stderr: string }).stderr
    }
    throw new Error('expected the aws command to fail')
  }

  it('creates, starts, inspects, stops, tags and deletes a pipeline', async () => {
    const file = join(f.server.dataDir, 'pipeline.json')
    writeFileSync(
      file,
      JSON.stringify({
        pipeline: declaration({
          name: 'cli',
          roleArn: role,
          connectionArn: arn,
          detectChanges: false,
          commands: ['cat README.md', 'sleep #{variables.DELAY}'],
          variables: [{ name: 'DELAY', defaultValue: '0' }],
        }),
      }),
    )
    const created = await aws('create-pipeline', '--cli-input-json', `file://${file}`)
    expect((created['pipeline'] as { version: number }).version).toBe(1)
    const listed = await aws('list-pipelines')
    expect((listed['pipelines'] as { name: string }[]).map((p) => p.name)).toEqual(['cli'])
    const started = await aws(
      'start-pipeline-execution',
      '--name',
      'cli',
      '--source-revisions',
      `actionName=Source,revisionType=COMMIT_ID,revisionValue=${f.world.commits.first}`,
    )
    const id = started['pipelineExecutionId'] as string
    const execution = await waitFor('the run', async () => {
      const r = (
        await aws('get-pipeline-execution', '--pipeline-name', 'cli', '--pipeline-execution-id', id)
      )['pipelineExecution'] as { status: string; artifactRevisions: { revisionId: string }[] }
      return r.status === 'Succeeded' ? r : undefined
    })
    expect(execution.artifactRevisions[0]!.revisionId).toBe(f.world.commits.first)
    const actions = await aws(
      'list-action-executions',
      '--pipeline-name',
      'cli',
      '--filter',
      `pipelineExecutionId=${id}`,
    )
    const names = (
      actions['actionExecutionDetails'] as { actionName: string; status: string }[]
    ).map((a) => `${a.actionName}:${a.status}`)
    expect(names.sort()).toEqual(['Build:Succeeded', 'Source:Succeeded'])
    const state = await aws('get-pipeline-state', '--name', 'cli')
    expect((state['stageStates'] as unknown[]).length).toBe(2)
    const summaries = await aws('list-pipeline-executions', '--pipeline-name', 'cli')
    expect((summaries['pipelineExecutionSummaries'] as unknown[]).length).toBeGreaterThanOrEqual(2)
    // A long run, stopped.
    const long = (
      await aws('start-pipeline-execution', '--name', 'cli', '--variables', 'name=DELAY,value=30')
    )['pipelineExecutionId'] as string
    await new Promise((r) => setTimeout(r, 500))
    await aws(
      'stop-pipeline-execution',
      '--pipeline-name',
      'cli',
      '--pipeline-execution-id',
      long,
      '--abandon',
    )
    await waitFor('the stop', async () => {
      const r = (
        await aws(
          'get-pipeline-execution',
          '--pipeline-name',
          'cli',
          '--pipeline-execution-id',
          long,
        )
      )['pipelineExecution'] as { status: string }
      return r.status === 'Stopped' ? r : undefined
    })
    const resourceArn = 'arn:aws:codepipeline:us-east-1:000000000000:cli'
    await aws('tag-resource', '--resource-arn', resourceArn, '--tags', 'key=team,value=web')
    const tags = await aws('list-tags-for-resource', '--resource-arn', resourceArn)
    expect(tags['tags']).toEqual([{ key: 'team', value: 'web' }])
    expect(await awsError('get-pipeline', '--name', 'nope')).toMatch(/PipelineNotFoundException/)
    expect(
      await awsError(
        'get-pipeline-execution',
        '--pipeline-name',
        'cli',
        '--pipeline-execution-id',
        '00000000-0000-0000-0000-000000000000',
      ),
    ).toMatch(/PipelineExecutionNotFoundException/)
    await aws('delete-pipeline', '--name', 'cli')
    expect((await aws('list-pipelines'))['pipelines']).toEqual([])
  })
})
