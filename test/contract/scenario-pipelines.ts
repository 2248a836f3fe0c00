/**
 * The CodePipeline part of the API-surface contract (api-surface.test.ts): a pipeline on an
 * AVAILABLE Bitbucket connection, a finished execution (source and Commands), a stopped one, and
 * every operation answered and refused.
 */
import {
  CreatePipelineCommand,
  DeletePipelineCommand,
  GetPipelineCommand,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListActionExecutionsCommand,
  ListPipelineExecutionsCommand,
  ListPipelinesCommand,
  ListTagsForResourceCommand,
  StartPipelineExecutionCommand,
  StopPipelineExecutionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdatePipelineCommand,
} from '@aws-sdk/client-codepipeline'
import { CreateConnectionCommand } from '@aws-sdk/client-codestar-connections'
import { expect } from 'vitest'
import { completeWithToken } from '../helpers/connect.js'
import type { Surface } from '../helpers/contract.js'
import { declaration, executions, finished, pipelineRole, waitFor } from '../helpers/pipelines.js'
import { fails } from './scenario-connections.js'
import { policy } from '../helpers/iam.js'

const ACCOUNT = '000000000000'

export async function pipelinesScenario(s: Surface): Promise<void> {
  const { c, f } = s
  const cp = s.clients.codepipeline
  const created = await s.clients.codeconnections.send(
    new CreateConnectionCommand({ ProviderType: 'Bitbucket', ConnectionName: 'pipelines' }),
  )
  const connectionArn = created.ConnectionArn!
  expect((await completeWithToken(f, connectionArn)).status).toBe(200)
  const roleArn = await pipelineRole(
    s.clients.iam,
    'contract-pipeline-role',
    policy({
      Effect: 'Allow',
      Action: ['codeconnections:UseConnection', 'codeconnections:GetConnectionToken'],
      Resource: '*',
    }),
  )
  const name = 'contract-app'
  const decl = declaration({
    name,
    roleArn,
    connectionArn,
    commands: [
      'export COMMIT=#{SourceVariables.CommitId}',
      'echo "built $COMMIT"',
      'sleep #{variables.DELAY}',
      'test #{variables.FAIL} = no',
    ],
    outputVariables: ['COMMIT'],
    variables: [
      { name: 'DELAY', defaultValue: '0', description: 'seconds the build sleeps' },
      { name: 'FAIL', defaultValue: 'no', description: 'yes makes the build fail' },
    ],
  })
  const pipelineArn = `arn:aws:codepipeline:us-east-1:${ACCOUNT}:${name}`

  await cp.send(
    new CreatePipelineCommand({ pipeline: decl, tags: [{ key: 'team', value: 'web' }] }),
  )
  await cp.send(new GetPipelineCommand({ name }))
  await cp.send(new UpdatePipelineCommand({ pipeline: { ...decl, version: 1 } }))
  await cp.send(new GetPipelineCommand({ name, version: 2 }))
  await cp.send(new ListPipelinesCommand({}))
  await cp.send(
    new TagResourceCommand({ resourceArn: pipelineArn, tags: [{ key: 'env', value: 'ci' }] }),
  )
  await cp.send(new ListTagsForResourceCommand({ resourceArn: pipelineArn }))
  await cp.send(new UntagResourceCommand({ resourceArn: pipelineArn, tagKeys: ['env'] }))

  // A finished run at a given commit, then everything that reads executions.
  const run = await cp.send(
    new StartPipelineExecutionCommand({
      name,
      clientRequestToken: 'contract-1',
      sourceRevisions: [
        { actionName: 'Source', revisionType: 'COMMIT_ID', revisionValue: f.world.commits.second },
      ],
    }),
  )
  const id = run.pipelineExecutionId!
  const done = await finished(cp, name, id)
  expect(done.status, done.statusSummary).toBe('Succeeded')
  await cp.send(new GetPipelineExecutionCommand({ pipelineName: name, pipelineExecutionId: id }))
  await cp.send(new ListPipelineExecutionsCommand({ pipelineName: name }))
  await cp.send(
    new ListPipelineExecutionsCommand({
      pipelineName: name,
      filter: { succeededInStage: { stageName: 'Build' } },
    }),
  )
  await cp.send(new GetPipelineStateCommand({ name }))
  await cp.send(new ListActionExecutionsCommand({ pipelineName: name }))
  await cp.send(
    new ListActionExecutionsCommand({ pipelineName: name, filter: { pipelineExecutionId: id } }),
  )

  // A long run, stopped while its build runs; the state while it runs and once it stopped.
  const long = await cp.send(
    new StartPipelineExecutionCommand({ name, variables: [{ name: 'DELAY', value: '60' }] }),
  )
  await waitFor('the long build to run', async () => {
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
  await cp.send(new GetPipelineStateCommand({ name }))
  await cp.send(
    new GetPipelineExecutionCommand({
      pipelineName: name,
      pipelineExecutionId: long.pipelineExecutionId,
    }),
  )
  await cp.send(
    new StopPipelineExecutionCommand({
      pipelineName: name,
      pipelineExecutionId: long.pipelineExecutionId,
      abandon: true,
      reason: 'contract test',
    }),
  )
  await finished(cp, name, long.pipelineExecutionId!)
  await cp.send(new GetPipelineStateCommand({ name }))
  await cp.send(new ListPipelineExecutionsCommand({ pipelineName: name, maxResults: 1 }))

  // A failed run (the action's error details), and a run a push starts (its trigger).
  const failed = await cp.send(
    new StartPipelineExecutionCommand({ name, variables: [{ name: 'FAIL', value: 'yes' }] }),
  )
  expect((await finished(cp, name, failed.pipelineExecutionId!)).status).toBe('Failed')
  await cp.send(new GetPipelineStateCommand({ name }))
  await cp.send(
    new ListActionExecutionsCommand({
      pipelineName: name,
      filter: { pipelineExecutionId: failed.pipelineExecutionId },
    }),
  )
  const before = (await executions(cp, name)).length
  await f.sb.admin('repositories/acme/app/commits', {
    branch: 'main',
    message: 'A pushed change\n\nWith a body.',
    author: 'alice',
    files: { 'pushed.txt': 'pushed\n' },
  })
  const pushed = await waitFor('the push to start a run', async () => {
    const all = await executions(cp, name)
    return all.length > before ? all[0] : undefined
  })
  expect((await finished(cp, name, pushed.pipelineExecutionId!)).status).toBe('Succeeded')
  await cp.send(
    new GetPipelineExecutionCommand({
      pipelineName: name,
      pipelineExecutionId: pushed.pipelineExecutionId,
    }),
  )
  await cp.send(new ListPipelineExecutionsCommand({ pipelineName: name }))
  await cp.send(new GetPipelineStateCommand({ name }))
  await cp.send(new ListActionExecutionsCommand({ pipelineName: name }))

  // Bad calls: validation, not found, wrong state.
  const noExecution = '00000000-0000-4000-8000-000000000000'
  await fails(cp.send(new CreatePipelineCommand({ pipeline: decl })), 'PipelineNameInUseException')
  await fails(
    cp.send(new CreatePipelineCommand({ pipeline: { ...decl, name: 'bad name!' } })),
    'ValidationException',
  )
  await fails(cp.send(new GetPipelineCommand({ name: 'nothing' })), 'PipelineNotFoundException')
  await fails(
    cp.send(new GetPipelineCommand({ name, version: 99 })),
    'PipelineVersionNotFoundException',
  )
  await fails(
    cp.send(new UpdatePipelineCommand({ pipeline: { ...decl, stages: decl.stages!.slice(0, 1) } })),
    'InvalidStructureException',
  )
  await fails(cp.send(new DeletePipelineCommand({ name: 'bad name!' })), 'ValidationException')
  await fails(
    cp.send(new ListPipelinesCommand({ nextToken: 'forged' })),
    'InvalidNextTokenException',
  )
  await fails(
    cp.send(new StartPipelineExecutionCommand({ name: 'nothing' })),
    'PipelineNotFoundException',
  )
  await fails(
    cp.send(new StopPipelineExecutionCommand({ pipelineName: name, pipelineExecutionId: id })),
    'PipelineExecutionNotStoppableException',
  )
  await fails(
    cp.send(
      new GetPipelineExecutionCommand({ pipelineName: name, pipelineExecutionId: noExecution }),
    ),
    'PipelineExecutionNotFoundException',
  )
  await fails(
    cp.send(new ListPipelineExecutionsCommand({ pipelineName: 'nothing' })),
    'PipelineNotFoundException',
  )
  await fails(
    cp.send(new GetPipelineStateCommand({ name: 'nothing' })),
    'PipelineNotFoundException',
  )
  await fails(
    cp.send(
      new ListActionExecutionsCommand({
        pipelineName: name,
        filter: { pipelineExecutionId: noExecution },
      }),
    ),
    'PipelineExecutionNotFoundException',
  )
  const noPipeline = `arn:aws:codepipeline:us-east-1:${ACCOUNT}:nothing`
  await fails(
    cp.send(new TagResourceCommand({ resourceArn: noPipeline, tags: [{ key: 'a', value: 'b' }] })),
    'ResourceNotFoundException',
  )
  await fails(
    cp.send(
      new UntagResourceCommand({
        resourceArn: `arn:aws:codepipeline:us-east-1:${ACCOUNT}:webhook:nope`,
        tagKeys: ['a'],
      }),
    ),
    'InvalidArnException',
  )
  await fails(
    cp.send(new ListTagsForResourceCommand({ resourceArn: noPipeline })),
    'ResourceNotFoundException',
  )

  // Operations of the model Junction does not implement, and names outside the model.
  for (const op of ['PollForJobs', 'PutWebhook', 'CompleteConnection', 'GetConnection'])
    expect((await c.json(f.raw, 'codepipeline', op, {})).code).toBe('UnknownOperationException')

  await cp.send(new DeletePipelineCommand({ name }))
  // Deleting a pipeline that does not exist succeeds, as on AWS.
  await cp.send(new DeletePipelineCommand({ name }))
  await fails(
    cp.send(new ListTagsForResourceCommand({ resourceArn: pipelineArn })),
    'ResourceNotFoundException',
  )
}
