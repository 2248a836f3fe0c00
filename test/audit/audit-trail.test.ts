/**
 * The audit trail end to end against a real Junction wired to the sandbox Bitbucket: API calls
 * with their outcome (allowed, denied with the deciding statement, error), uses of a connection
 * (clone credentials, archive link and download) as events of their own, no secret in any stored
 * row, and CloudTrail's LookupEvents read with AWS's own JS client, each answer validated against
 * botocore's CloudTrail model.
 */
import {
  CloudTrailClient,
  LookupEventsCommand,
  type LookupEventsCommandInput,
  type Event,
} from '@aws-sdk/client-cloudtrail'
import { GetConnectionCommand, ListConnectionsCommand } from '@aws-sdk/client-codestar-connections'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sdkClient, type Credentials } from '../helpers/client.js'
import {
  completeWithToken,
  ext,
  newConnection,
  startConnectFixture,
  stopConnectFixture,
  type ConnectFixture,
} from '../helpers/connect.js'
import { testEngines } from '../helpers/engines.js'
import { policy, userWithPolicy } from '../helpers/iam.js'
import { botocoreModel, validateJson } from '../helpers/model-shapes.js'

const model = botocoreModel('cloudtrail')

const cloudtrail = (url: string, credentials: Credentials) =>
  new CloudTrailClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { ...credentials },
    maxAttempts: 1,
  })

interface Record_ {
  userIdentity: { type: string; arn: string; accountId: string; accessKeyId?: string }
  eventTime: string
  eventSource: string
  eventName: string
  awsRegion: string
  sourceIPAddress: string
  userAgent: string
  errorCode?: string
  errorMessage?: string
  requestID: string
  eventID: string
  readOnly: boolean
  resources: { ARN: string; type: string; accountId: string }[]
  recipientAccountId: string
  eventType: string
  additionalEventData: { outcome: string; decidingStatement?: string; use?: string }
  requestParameters: Record<string, unknown> | null
}

const recordOf = (e: Event) => JSON.parse(e.CloudTrailEvent!) as Record_

describe.each(testEngines())('audit trail (%s)', (engine) => {
  let f: ConnectFixture
  let ct: CloudTrailClient
  let arn = ''

  /** LookupEvents through the SDK; the raw answer is checked against the model too. */
  async function lookup(input: LookupEventsCommandInput, client = ct): Promise<Event[]> {
    const raw = await f.raw.call({
      target: 'CloudTrail_20131101.LookupEvents',
      signingService: 'cloudtrail',
      headers: { 'content-type': 'application/x-amz-json-1.1' },
      body: {
        ...input,
        ...(input.StartTime ? { StartTime: input.StartTime.getTime() / 1000 } : {}),
        ...(input.EndTime ? { EndTime: input.EndTime.getTime() / 1000 } : {}),
      },
    })
    expect(raw.status, raw.text).toBe(200)
    expect(validateJson(model, 'LookupEventsResponse', raw.json)).toEqual([])
    return (await client.send(new LookupEventsCommand(input))).Events ?? []
  }
  const byName = (name: string) =>
    lookup({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: name }] })

  beforeAll(async () => {
    f = await startConnectFixture(engine)
    ct = cloudtrail(f.server.url, f.server.credentials)
    arn = await newConnection(f)
  }, 60_000)
  afterAll(async () => {
    ct?.destroy()
    await stopConnectFixture(f)
  })

  it('records an allowed call with who, what, when, from where and the request id', async () => {
    const before = Date.now()
    const got = await f.sdk.send(new GetConnectionCommand({ ConnectionArn: arn }))
    const events = await byName('GetConnection')
    const e = events.find((x) => recordOf(x).requestID === got.$metadata.requestId)!
    expect(e).toBeDefined()
    expect(e).toMatchObject({
      EventName: 'GetConnection',
      EventSource: 'codestar-connections.amazonaws.com',
      ReadOnly: 'true',
      Username: 'root',
      AccessKeyId: f.server.credentials.accessKeyId,
      Resources: [{ ResourceType: 'AWS::CodeStarConnections::Connection', ResourceName: arn }],
    })
    expect(e.EventTime!.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000)
    const r = recordOf(e)
    expect(r).toMatchObject({
      eventName: 'GetConnection',
      eventSource: 'codestar-connections.amazonaws.com',
      awsRegion: 'us-east-1',
      sourceIPAddress: '127.0.0.1',
      eventID: e.EventId,
      readOnly: true,
      recipientAccountId: '000000000000',
      eventType: 'AwsApiCall',
      userIdentity: {
        type: 'Root',
        arn: 'arn:aws:iam::000000000000:root',
        accountId: '000000000000',
        accessKeyId: f.server.credentials.accessKeyId,
      },
      resources: [
        { ARN: arn, type: 'AWS::CodeStarConnections::Connection', accountId: '000000000000' },
      ],
      additionalEventData: { outcome: 'allowed' },
      requestParameters: { ConnectionArn: arn },
    })
    expect(r.userAgent).toMatch(/aws-sdk-js/)
    expect(r.eventTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    expect(r.errorCode).toBeUndefined()
  })

  it('records a created connection under its new ARN (taken from the answer)', async () => {
    const created = await newConnection(f)
    const events = await lookup({
      LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: created }],
    })
    expect(events.map((e) => e.EventName)).toContain('CreateConnection')
    expect(recordOf(events.find((e) => e.EventName === 'CreateConnection')!).readOnly).toBe(false)
  })

  it('records an error with its code and message', async () => {
    const missing = arn.replace(/[0-9a-f]{8}-/, '00000000-')
    await expect(
      f.sdk.send(new GetConnectionCommand({ ConnectionArn: missing })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' })
    const e = (await byName('GetConnection')).find(
      (x) => x.Resources?.[0]?.ResourceName === missing,
    )!
    expect(recordOf(e)).toMatchObject({
      errorCode: 'ResourceNotFoundException',
      additionalEventData: { outcome: 'error' },
    })
    expect(recordOf(e).errorMessage).toBeTruthy()
  })

  it('records a denial with the statement that decided it, under the user', async () => {
    const creds = await userWithPolicy(
      f.iam,
      'audited-denied',
      policy(
        { Effect: 'Allow', Action: 'codestar-connections:*', Resource: '*' },
        {
          Sid: 'NoReadingThis',
          Effect: 'Deny',
          Action: 'codestar-connections:GetConnection',
          Resource: arn,
        },
      ),
    )
    const sdk = sdkClient(f.server.url, creds)
    await expect(sdk.send(new GetConnectionCommand({ ConnectionArn: arn }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
    })
    // Allowed by the first statement: recorded as allowed under the same user.
    await sdk.send(new ListConnectionsCommand({}))
    sdk.destroy()
    const events = await lookup({
      LookupAttributes: [{ AttributeKey: 'Username', AttributeValue: 'audited-denied' }],
    })
    const denied = events.find((e) => e.EventName === 'GetConnection')!
    expect(denied).toMatchObject({ AccessKeyId: creds.accessKeyId, Username: 'audited-denied' })
    const r = recordOf(denied)
    expect(r.userIdentity).toMatchObject({
      type: 'IAMUser',
      arn: 'arn:aws:iam::000000000000:user/audited-denied',
    })
    expect(r.errorCode).toBe('AccessDeniedException')
    expect(r.additionalEventData.outcome).toBe('denied')
    expect(r.additionalEventData.decidingStatement).toMatch(
      /explicit deny in an identity-based policy: .*\(statement NoReadingThis\)/,
    )
    const listed = events.find((e) => e.EventName === 'ListConnections')!
    expect(recordOf(listed).additionalEventData.outcome).toBe('allowed')
    // IAM's own calls are recorded too (the user and key were made through IAM).
    const iam = await lookup({
      LookupAttributes: [{ AttributeKey: 'EventSource', AttributeValue: 'iam.amazonaws.com' }],
    })
    expect(iam.map((e) => e.EventName)).toEqual(
      expect.arrayContaining(['CreateUser', 'PutUserPolicy', 'CreateAccessKey']),
    )
  })

  it('refuses LookupEvents to a user without cloudtrail:LookupEvents and answers one with it', async () => {
    const none = await userWithPolicy(
      f.iam,
      'audit-none',
      policy({ Effect: 'Allow', Action: 'codestar-connections:*', Resource: '*' }),
    )
    const reader = await userWithPolicy(
      f.iam,
      'audit-reader',
      policy({ Effect: 'Allow', Action: 'cloudtrail:LookupEvents', Resource: '*' }),
    )
    const c1 = cloudtrail(f.server.url, none)
    await expect(c1.send(new LookupEventsCommand({}))).rejects.toMatchObject({
      name: 'AccessDeniedException',
    })
    c1.destroy()
    const c2 = cloudtrail(f.server.url, reader)
    const out = await c2.send(new LookupEventsCommand({ MaxResults: 5 }))
    c2.destroy()
    expect(out.Events!.length).toBe(5)
    // The refused lookup is itself in the trail, as denied.
    const refused = (await byName('LookupEvents')).find((e) => e.Username === 'audit-none')!
    expect(recordOf(refused)).toMatchObject({
      eventSource: 'cloudtrail.amazonaws.com',
      additionalEventData: { outcome: 'denied' },
    })
  })

  it('records each use of a connection as its own event, and no secret anywhere', async () => {
    const used = await newConnection(f)
    const done = await completeWithToken(f, used)
    expect(done.status, done.text).toBe(200)
    const clone = await ext(f, 'GetCloneCredentials', {
      ConnectionArn: used,
      FullRepositoryId: 'acme/app',
    })
    expect(clone.status, clone.text).toBe(200)
    const password = String(clone.json['Password'])
    const head = await ext(f, 'GetBranch', {
      ConnectionArn: used,
      FullRepositoryId: 'acme/app',
      BranchName: 'main',
    })
    expect(head.status, head.text).toBe(200)
    const link = await ext(f, 'GetSourceArchiveUrl', {
      ConnectionArn: used,
      FullRepositoryId: 'acme/app',
      CommitId: String(head.json['CommitId']),
    })
    expect(link.status, link.text).toBe(200)
    const zip = await fetch(String(link.json['Url']), { headers: { 'user-agent': 'zip-fetcher' } })
    expect(zip.status).toBe(200)
    await zip.arrayBuffer()
    // A completion with a wrong token fails; the token must not reach the trail either.
    const wrongToken = 'definitely-not-a-token-0123456789abcdef'
    const other = await newConnection(f)
    const bad = await completeWithToken(f, other, wrongToken)
    expect(bad.status).toBeGreaterThanOrEqual(400)

    const uses = await lookup({
      LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: used }],
    })
    const kinds = uses
      .filter((e) => e.EventName === 'UseConnection')
      .map((e) => recordOf(e).additionalEventData.use)
    expect(kinds).toEqual(
      expect.arrayContaining(['clone-credentials', 'archive-link', 'archive-download']),
    )
    const cloneUse = uses.find(
      (e) =>
        e.EventName === 'UseConnection' &&
        recordOf(e).additionalEventData.use === 'clone-credentials',
    )!
    expect(recordOf(cloneUse)).toMatchObject({
      eventType: 'AwsServiceEvent',
      eventSource: 'codestar-connections.amazonaws.com',
      sourceIPAddress: '127.0.0.1',
      additionalEventData: { outcome: 'allowed', providerAction: 'GitPull' },
      requestParameters: { ConnectionArn: used, FullRepositoryId: 'acme/app' },
    })
    const download = uses.find((e) => recordOf(e).additionalEventData.use === 'archive-download')!
    expect(recordOf(download).userAgent).toBe('zip-fetcher')
    expect(uses.map((e) => e.EventName)).toEqual(
      expect.arrayContaining(['GetCloneCredentials', 'GetSourceArchiveUrl', 'CompleteConnection']),
    )
    const junction = uses.find((e) => e.EventName === 'GetCloneCredentials')!
    expect(junction.EventSource).toBe('junction')

    // Every stored row of the account, every column: no secret.
    await f.server.audit!.flush()
    const rows = await f.server.store.audit.lookup({
      accountId: '000000000000',
      from: 0,
      until: Date.now() + 60_000,
      limit: 100_000,
    })
    expect(rows.length).toBeGreaterThan(20)
    const all = JSON.stringify(rows)
    const users = await f.server.store.accessKeys.listForUser('000000000000', 'audited-denied')
    expect(users.length).toBe(1)
    for (const secret of [
      f.server.credentials.secretAccessKey,
      f.world.acmeToken,
      password,
      wrongToken,
    ]) {
      expect(secret.length).toBeGreaterThan(8)
      expect(all).not.toContain(secret)
    }
    expect(all).not.toMatch(/AccessToken|SecretAccessKey|"Password"/)
  })
})
