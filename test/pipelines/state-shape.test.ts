/**
 * What CodePipeline answers about a connection source (issue 12, item 2), read through the AWS
 * SDK v3 client and, for the wire types, raw: GetPipelineState's `currentRevision` with the
 * model's required `revisionChangeId` and `created`, every stage's `inboundTransitionState`, the
 * source action's `entityUrl` (the repository's page) and `revisionUrl` (the commit's page); and
 * `revisionSummary` (ListPipelineExecutions, GetPipelineExecution) and the source action's summary
 * (GetPipelineState, ListActionExecutions) as CodePipeline gives them for a CodeStarSourceConnection
 * source: `{"ProviderType":"Bitbucket","CommitMessage":"…"}`.
 */
import {
  CreatePipelineCommand,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListActionExecutionsCommand,
  ListPipelineExecutionsCommand,
  type CodePipelineClient,
} from '@aws-sdk/client-codepipeline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  connectionRevisionSummary,
  MAX_SUMMARY_CHARS,
  revisionMessage,
} from '../../src/pipelines/wire.js'
import type { ConnectFixture } from '../helpers/connect.js'
import {
  declaration,
  executions,
  finished,
  startPipelineFixture,
  stopPipelineFixture,
  waitFor,
} from '../helpers/pipelines.js'

describe('connection source revisions as CodePipeline shows them', () => {
  let f: ConnectFixture
  let cp: CodePipelineClient
  let arn: string
  let executionId: string
  let commit: string
  let message: string
  let authorDate: string
  beforeAll(async () => {
    let role: string
    ;({ f, cp, arn, role } = await startPipelineFixture('sqlite'))
    await cp.send(
      new CreatePipelineCommand({
        pipeline: declaration({ name: 'shape', roleArn: role, connectionArn: arn }),
      }),
    )
    const [first] = await waitFor('the first execution', async () => {
      const e = await executions(cp, 'shape')
      return e.length > 0 ? e : undefined
    })
    // Commands are off in this server: the source succeeds, the build fails; both are shown.
    executionId = (await finished(cp, 'shape', first!.pipelineExecutionId!)).pipelineExecutionId!
    commit = f.world.commits.second
    const actions = await cp.send(
      new ListActionExecutionsCommand({
        pipelineName: 'shape',
        filter: { pipelineExecutionId: executionId },
      }),
    )
    const vars = actions.actionExecutionDetails!.find((a) => a.actionName === 'Source')!.output!
      .outputVariables!
    message = vars['CommitMessage']!
    authorDate = vars['AuthorDate']!
  })
  afterAll(() => stopPipelineFixture({ f, cp }))

  const repositoryPage = () => `${f.sb.url}/acme/app`
  const commitPage = () => `${f.sb.url}/acme/app/commits/${commit}`
  const summary = () => JSON.stringify({ ProviderType: 'Bitbucket', CommitMessage: message })

  it('GetPipelineState: currentRevision, transition states, entity and revision links', async () => {
    const state = await cp.send(new GetPipelineStateCommand({ name: 'shape' }))
    const [source, build] = state.stageStates!
    for (const stage of [source!, build!]) {
      expect(stage.inboundTransitionState, stage.stageName).toEqual({ enabled: true })
      expect(stage.inboundExecutions, stage.stageName).toEqual([])
    }
    const action = source!.actionStates![0]!
    expect(action.currentRevision!.revisionId).toBe(commit)
    expect(action.currentRevision!.revisionChangeId).toBe(commit)
    // `created` is the commit's author date (AuthorDate has whole seconds).
    expect(action.currentRevision!.created).toBeInstanceOf(Date)
    expect(Math.floor(action.currentRevision!.created!.getTime() / 1000) * 1000).toBe(
      Date.parse(authorDate),
    )
    expect(action.entityUrl).toBe(repositoryPage())
    expect(action.revisionUrl).toBe(commitPage())
    expect(action.latestExecution!.summary).toBe(summary())
    expect(action.latestExecution!.externalExecutionId).toBe(commit)
    // A Commands action has no repository and no revision.
    const b = build!.actionStates![0]!
    expect(b.latestExecution!.status).toBe('Failed')
    expect(b.currentRevision).toBeUndefined()
    expect(b.entityUrl).toBeUndefined()
    expect(b.revisionUrl).toBeUndefined()
  })

  it('GetPipelineState on the wire: epoch-second numbers and the required members', async () => {
    const res = await f.raw.call({
      target: 'CodePipeline_20150709.GetPipelineState',
      signingService: 'codepipeline',
      headers: { 'content-type': 'application/x-amz-json-1.1' },
      body: { name: 'shape' },
    })
    expect(res.status).toBe(200)
    const stages = res.json['stageStates'] as {
      actionStates: { currentRevision?: Record<string, unknown> }[]
    }[]
    const rev = stages[0]!.actionStates[0]!.currentRevision!
    expect(Object.keys(rev).sort()).toEqual(['created', 'revisionChangeId', 'revisionId'])
    expect(typeof rev['created']).toBe('number')
    expect(rev['created'] as number).toBeLessThan(Date.now() / 1000 + 1)
    expect(typeof res.json['created']).toBe('number')
  })

  it('ListPipelineExecutions and GetPipelineExecution: JSON revisionSummary and the commit link', async () => {
    const list = await cp.send(new ListPipelineExecutionsCommand({ pipelineName: 'shape' }))
    const run = list.pipelineExecutionSummaries!.find((e) => e.pipelineExecutionId === executionId)!
    expect(run.sourceRevisions).toEqual([
      {
        actionName: 'Source',
        revisionId: commit,
        revisionSummary: summary(),
        revisionUrl: commitPage(),
      },
    ])
    const got = await cp.send(
      new GetPipelineExecutionCommand({ pipelineName: 'shape', pipelineExecutionId: executionId }),
    )
    const [artifact] = got.pipelineExecution!.artifactRevisions!
    expect(artifact).toMatchObject({
      name: 'SourceArtifact',
      revisionId: commit,
      revisionSummary: summary(),
      revisionUrl: commitPage(),
    })
    expect(artifact!.created).toBeInstanceOf(Date)
    expect(JSON.parse(artifact!.revisionSummary!)).toEqual({
      ProviderType: 'Bitbucket',
      CommitMessage: 'Second commit\n\nWith a body.\n',
    })
  })

  it('ListActionExecutions: the source summary is the JSON, its URL the commit page', async () => {
    const r = await cp.send(
      new ListActionExecutionsCommand({
        pipelineName: 'shape',
        filter: { pipelineExecutionId: executionId },
      }),
    )
    const source = r.actionExecutionDetails!.find((a) => a.actionName === 'Source')!
    expect(source.output!.executionResult).toEqual({
      externalExecutionId: commit,
      externalExecutionSummary: summary(),
      externalExecutionUrl: commitPage(),
    })
  })
})

describe('revisionSummary JSON', () => {
  it('stays whole JSON within the model’s 2048 characters, cut at a character boundary', () => {
    const long = `${'é😀"\\\n'.repeat(2000)}end`
    const s = connectionRevisionSummary('Bitbucket', long)
    expect(s.length).toBeLessThanOrEqual(MAX_SUMMARY_CHARS)
    expect(s.length).toBeGreaterThan(MAX_SUMMARY_CHARS - 12)
    const v = JSON.parse(s) as { ProviderType: string; CommitMessage: string }
    expect(v.ProviderType).toBe('Bitbucket')
    expect(long.startsWith(v.CommitMessage)).toBe(true)
    expect(v.CommitMessage).not.toMatch(/[\uD800-\uDBFF]$/)
    expect(connectionRevisionSummary('Bitbucket', 'Fix\n')).toBe(
      '{"ProviderType":"Bitbucket","CommitMessage":"Fix\\n"}',
    )
  })

  it('reads the message back for people (and leaves other text as it is)', () => {
    expect(revisionMessage('{"ProviderType":"Bitbucket","CommitMessage":"Fix it\\n"}')).toBe(
      'Fix it\n',
    )
    expect(revisionMessage('plain text')).toBe('plain text')
    expect(revisionMessage('{not json')).toBe('{not json')
    expect(revisionMessage(undefined)).toBe('')
  })
})
