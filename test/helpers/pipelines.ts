/**
 * Pipelines through the official CodePipeline SDK client: a role CodePipeline may assume, a
 * two-stage declaration (a connection source and a Commands action), and waiting for executions.
 */
import {
  CodePipelineClient,
  GetPipelineExecutionCommand,
  ListActionExecutionsCommand,
  ListPipelineExecutionsCommand,
  type PipelineDeclaration,
  type PipelineExecutionSummary,
} from '@aws-sdk/client-codepipeline'
import { CreateRoleCommand, PutRolePolicyCommand, type IAMClient } from '@aws-sdk/client-iam'
import { policy } from './iam.js'
import {
  completeWithToken,
  newConnection,
  startConnectFixture,
  stopConnectFixture,
  type ConnectFixture,
} from './connect.js'
import type { Engine } from './engines.js'
import type { ServeFlags } from '../../src/config.js'
import type { Credentials } from './client.js'

export const pipelineClient = (url: string, credentials: Credentials) =>
  new CodePipelineClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { ...credentials },
    maxAttempts: 1,
  })

export const TRUST_CODEPIPELINE = policy({
  Effect: 'Allow',
  Principal: { Service: 'codepipeline.amazonaws.com' },
  Action: 'sts:AssumeRole',
})

/** A role CodePipeline may assume, allowed to use connections unless `document` says otherwise. */
export async function pipelineRole(
  iam: IAMClient,
  name: string,
  document = policy({
    Effect: 'Allow',
    Action: ['codestar-connections:UseConnection', 'codestar-connections:GetConnectionToken'],
    Resource: '*',
  }),
): Promise<string> {
  const r = await iam.send(
    new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: TRUST_CODEPIPELINE }),
  )
  await iam.send(
    new PutRolePolicyCommand({ RoleName: name, PolicyName: 'pipeline', PolicyDocument: document }),
  )
  return r.Role!.Arn!
}

export interface PipelineOptions {
  name: string
  roleArn: string
  connectionArn: string
  repository?: string
  branch?: string
  format?: 'CODE_ZIP' | 'CODEBUILD_CLONE_REF'
  detectChanges?: boolean
  commands?: string[]
  outputVariables?: string[]
  triggers?: PipelineDeclaration['triggers']
  executionMode?: PipelineDeclaration['executionMode']
  variables?: PipelineDeclaration['variables']
}

export function declaration(o: PipelineOptions): PipelineDeclaration {
  const config: Record<string, string> = {
    ConnectionArn: o.connectionArn,
    FullRepositoryId: o.repository ?? 'acme/app',
    BranchName: o.branch ?? 'main',
  }
  if (o.format) config['OutputArtifactFormat'] = o.format
  if (o.detectChanges !== undefined) config['DetectChanges'] = String(o.detectChanges)
  return {
    name: o.name,
    roleArn: o.roleArn,
    artifactStore: { type: 'S3', location: 'junction-artifacts' },
    pipelineType: 'V2',
    executionMode: o.executionMode ?? 'PARALLEL',
    ...(o.triggers ? { triggers: o.triggers } : {}),
    ...(o.variables ? { variables: o.variables } : {}),
    stages: [
      {
        name: 'Source',
        actions: [
          {
            name: 'Source',
            namespace: 'SourceVariables',
            actionTypeId: {
              category: 'Source',
              owner: 'AWS',
              provider: 'CodeStarSourceConnection',
              version: '1',
            },
            configuration: config,
            outputArtifacts: [{ name: 'SourceArtifact' }],
          },
        ],
      },
      {
        name: 'Build',
        actions: [
          {
            name: 'Build',
            namespace: 'BuildVariables',
            actionTypeId: { category: 'Compute', owner: 'AWS', provider: 'Commands', version: '1' },
            commands: o.commands ?? ['ls'],
            inputArtifacts: [{ name: 'SourceArtifact' }],
            ...(o.outputVariables ? { outputVariables: o.outputVariables } : {}),
          },
        ],
      },
    ],
  }
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const FINAL = new Set(['Succeeded', 'Failed', 'Stopped', 'Superseded', 'Cancelled'])

/** Waits until the execution is finished; returns it. */
export async function finished(cp: CodePipelineClient, pipelineName: string, id: string) {
  return waitFor(`execution ${id} of ${pipelineName}`, async () => {
    const r = await cp.send(
      new GetPipelineExecutionCommand({ pipelineName, pipelineExecutionId: id }),
    )
    return FINAL.has(r.pipelineExecution!.status!) ? r.pipelineExecution! : undefined
  })
}

export async function executions(
  cp: CodePipelineClient,
  pipelineName: string,
): Promise<PipelineExecutionSummary[]> {
  const r = await cp.send(new ListPipelineExecutionsCommand({ pipelineName }))
  return r.pipelineExecutionSummaries ?? []
}

/** The log of one action of an execution, through its signed `externalExecutionUrl`. */
export async function actionLog(
  cp: CodePipelineClient,
  pipelineName: string,
  id: string,
  action = 'Build',
): Promise<string> {
  const r = await cp.send(
    new ListActionExecutionsCommand({ pipelineName, filter: { pipelineExecutionId: id } }),
  )
  const a = r.actionExecutionDetails!.find((x) => x.actionName === action)!
  return (await fetch(a.output!.executionResult!.externalExecutionUrl!)).text()
}

/** Junction on the seeded sandbox with a completed connection, a pipeline role and a client. */
export async function startPipelineFixture(
  engine: Engine,
  flags: ServeFlags = {},
  opts: { clock?: () => number } = {},
): Promise<{ f: ConnectFixture; cp: CodePipelineClient; arn: string; role: string }> {
  const f = await startConnectFixture(engine, flags, opts)
  const cp = pipelineClient(f.server.url, f.server.credentials)
  const arn = await newConnection(f)
  await completeWithToken(f, arn)
  const role = await pipelineRole(f.iam, 'pipeline-role')
  return { f, cp, arn, role }
}

export async function stopPipelineFixture(p: {
  f?: ConnectFixture
  cp?: CodePipelineClient
}): Promise<void> {
  p.cp?.destroy()
  await stopConnectFixture(p.f)
}
