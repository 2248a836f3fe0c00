/**
 * Uses of a connection outside a direct API call: a pipeline's source action (by its role session,
 * as CodePipeline) and `junction git-credential` (told from GetCloneCredentials by its user agent),
 * each recorded as a `UseConnection` event on the connection.
 */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { CreatePipelineCommand, StartPipelineExecutionCommand } from '@aws-sdk/client-codepipeline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ext } from '../helpers/connect.js'
import { testEngines } from '../helpers/engines.js'
import {
  declaration,
  finished,
  startPipelineFixture,
  stopPipelineFixture,
  waitFor,
} from '../helpers/pipelines.js'

const BIN = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js')

type Fixture = Awaited<ReturnType<typeof startPipelineFixture>>
interface Use {
  userIdentity: { type: string; arn: string; sessionContext?: { sessionIssuer: { arn: string } } }
  userAgent: string
  eventName: string
  additionalEventData: { use?: string; providerAction?: string; outcome: string }
  requestParameters: Record<string, string>
}

describe.each(testEngines())('connection uses in the audit trail (%s)', (engine) => {
  let p: Fixture

  /** The UseConnection records of the connection, newest first. */
  async function uses(): Promise<Use[]> {
    const r = await p.f.raw.call({
      target: 'CloudTrail_20131101.LookupEvents',
      signingService: 'cloudtrail',
      headers: { 'content-type': 'application/x-amz-json-1.1' },
      body: { LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: p.arn }] },
    })
    expect(r.status, r.text).toBe(200)
    return (r.json['Events'] as { CloudTrailEvent: string }[])
      .map((e) => JSON.parse(e.CloudTrailEvent) as Use)
      .filter((e) => e.eventName === 'UseConnection')
  }

  beforeAll(async () => {
    p = await startPipelineFixture(engine)
  }, 60_000)
  afterAll(() => stopPipelineFixture(p))

  it("records a pipeline's source action under its role session", async () => {
    await p.cp.send(
      new CreatePipelineCommand({
        pipeline: declaration({ name: 'audited', roleArn: p.role, connectionArn: p.arn }),
      }),
    )
    const started = await p.cp.send(new StartPipelineExecutionCommand({ name: 'audited' }))
    await finished(p.cp, 'audited', started.pipelineExecutionId!)
    const source = await waitFor('the source use', async () =>
      (await uses()).find((u) => u.additionalEventData.use === 'source-action'),
    )
    expect(source).toMatchObject({
      userAgent: 'codepipeline.amazonaws.com',
      userIdentity: {
        type: 'AssumedRole',
        arn: 'arn:aws:sts::000000000000:assumed-role/pipeline-role/junction-audited',
        sessionContext: { sessionIssuer: { arn: p.role } },
      },
      additionalEventData: { outcome: 'allowed', providerAction: 'StartUploadArchiveToS3' },
      requestParameters: { ConnectionArn: p.arn, FullRepositoryId: 'acme/app', BranchName: 'main' },
    })
  })

  it('records junction git-credential as its own kind of use', async () => {
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: p.f.server.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: p.f.server.credentials.secretAccessKey,
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_CONFIG_FILE: '/dev/null',
      JUNCTION_ENDPOINT: p.f.server.url,
    }
    const child = execFile(
      process.execPath,
      [BIN, 'git-credential', '--connection-arn', p.arn, 'get'],
      {
        env,
      },
    )
    child.stdin!.end('protocol=https\nhost=bitbucket.example\npath=acme/app.git\n\n')
    const out = await new Promise<string>((resolve, reject) => {
      let text = ''
      child.stdout!.on('data', (d: Buffer) => (text += d.toString()))
      child.on('error', reject)
      child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`exit ${code}`))))
    })
    expect(out).toMatch(/^username=.*\npassword=/)
    const viaHelper = (await uses()).find((u) => u.additionalEventData.use === 'git-credential')
    expect(viaHelper).toMatchObject({
      userAgent: 'junction-cli git-credential',
      additionalEventData: { outcome: 'allowed', providerAction: 'GitPull' },
    })
    // A direct GetCloneCredentials is the plain kind.
    expect(
      (
        await ext(p.f, 'GetCloneCredentials', {
          ConnectionArn: p.arn,
          FullRepositoryId: 'acme/app',
        })
      ).status,
    ).toBe(200)
    expect((await uses())[0]!.additionalEventData.use).toBe('clone-credentials')
  })
})
