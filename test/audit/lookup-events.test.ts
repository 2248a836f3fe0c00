/**
 * CloudTrail's LookupEvents over the audit trail: every lookup attribute, the time range, pages
 * with a signed NextToken (an altered or reused token refused), the model's errors, one account's
 * events only, the AWS CLI's `lookup-events` (botocore: its own pagination and timestamps),
 * `junction audit export`, retention on a moved clock, and `--audit off`.
 */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { CreateConnectionCommand, ListHostsCommand } from '@aws-sdk/client-codestar-connections'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RawClient, sdkClient, type RawResponse } from '../helpers/client.js'
import { testClock } from '../helpers/clock.js'
import { testEngines } from '../helpers/engines.js'
import { botocoreModel, validateJson } from '../helpers/model-shapes.js'
import { itWith, needs } from '../helpers/requirements.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { writeAwsConfig } from '../helpers/aws-cli.js'
import { uuidV7 } from '../../src/audit/events.js'

const run = promisify(execFile)
const model = botocoreModel('cloudtrail')
const BIN = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js')

type Ev = {
  EventId: string
  EventName: string
  EventTime: number
  ReadOnly: string
  AccessKeyId?: string
  EventSource: string
  Username: string
  Resources: { ResourceType: string; ResourceName: string }[]
  CloudTrailEvent: string
}

function lookupWith(raw: RawClient) {
  return async (body: Record<string, unknown>, long = false): Promise<RawResponse> => {
    const r = await raw.call({
      target: `${long ? 'com.amazonaws.cloudtrail.v20131101.' : ''}CloudTrail_20131101.LookupEvents`,
      signingService: 'cloudtrail',
      headers: { 'content-type': 'application/x-amz-json-1.1' },
      body,
    })
    if (r.status === 200) expect(validateJson(model, 'LookupEventsResponse', r.json)).toEqual([])
    return r
  }
}
const events = (r: RawResponse) => (r.json['Events'] as Ev[] | undefined) ?? []

describe.each(testEngines())('LookupEvents (%s)', (engine) => {
  let server: TestServer
  let lookup: ReturnType<typeof lookupWith>
  const arns: string[] = []
  let firstAt = 0

  beforeAll(async () => {
    server = await startTestServer(engine)
    lookup = lookupWith(new RawClient(server.url, server.credentials))
    const sdk = sdkClient(server.url, server.credentials)
    firstAt = Date.now()
    for (let i = 0; i < 7; i++)
      arns.push(
        (
          await sdk.send(
            new CreateConnectionCommand({ ConnectionName: `audit-${i}`, ProviderType: 'GitHub' }),
          )
        ).ConnectionArn!,
      )
    await sdk.send(new ListHostsCommand({}))
    sdk.destroy()
  }, 60_000)
  afterAll(() => server?.stop())

  it('filters by each lookup attribute', async () => {
    const created = events(
      await lookup({
        LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateConnection' }],
      }),
    )
    expect(created).toHaveLength(7)
    // Newest first.
    const times = created.map((e) => e.EventTime)
    expect([...times].sort((a, b) => b - a)).toEqual(times)
    const one = created[3]!
    const byId = events(
      await lookup({
        LookupAttributes: [{ AttributeKey: 'EventId', AttributeValue: one.EventId }],
      }),
    )
    expect(byId.map((e) => e.EventId)).toEqual([one.EventId])
    const readOnly = events(
      await lookup({ LookupAttributes: [{ AttributeKey: 'ReadOnly', AttributeValue: 'true' }] }),
    )
    expect(readOnly.length).toBeGreaterThan(0)
    expect(readOnly.every((e) => e.ReadOnly === 'true')).toBe(true)
    expect(readOnly.map((e) => e.EventName)).toContain('ListHosts')
    const writes = events(
      await lookup({ LookupAttributes: [{ AttributeKey: 'ReadOnly', AttributeValue: 'false' }] }),
    )
    expect(writes.map((e) => e.EventName)).toContain('CreateConnection')
    expect(writes.every((e) => e.ReadOnly === 'false')).toBe(true)
    for (const [AttributeKey, AttributeValue] of [
      ['Username', 'root'],
      ['AccessKeyId', server.credentials.accessKeyId],
      ['EventSource', 'codestar-connections.amazonaws.com'],
      ['ResourceType', 'AWS::CodeStarConnections::Connection'],
    ] as const) {
      const got = events(await lookup({ LookupAttributes: [{ AttributeKey, AttributeValue }] }))
      expect(got.length, AttributeKey).toBeGreaterThanOrEqual(7)
    }
    const byResource = events(
      await lookup({
        LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: arns[2]! }],
      }),
    )
    expect(byResource.map((e) => e.EventName)).toEqual(['CreateConnection'])
    expect(
      events(
        await lookup({
          LookupAttributes: [{ AttributeKey: 'Username', AttributeValue: 'nobody' }],
        }),
      ),
    ).toEqual([])
    // The long botocore target is served too.
    expect((await lookup({ MaxResults: 1 }, true)).status).toBe(200)
  })

  it('keeps to the time range', async () => {
    const now = Date.now() / 1000
    const all = events(await lookup({ StartTime: firstAt / 1000 - 1, EndTime: now + 1 }))
    expect(all.length).toBeGreaterThanOrEqual(8)
    expect(events(await lookup({ StartTime: now + 3600 }))).toEqual([])
    expect(events(await lookup({ EndTime: firstAt / 1000 - 3600 }))).toEqual([])
    const r = await lookup({ StartTime: now, EndTime: now - 60 })
    expect(r.json['__type']).toBe('InvalidTimeRangeException')
  })

  it('pages with a NextToken, refusing an altered one or one from another query', async () => {
    const filter = {
      LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateConnection' }],
    }
    const seen: string[] = []
    let token: string | undefined
    let pages = 0
    let firstToken = ''
    do {
      const r = await lookup({ ...filter, MaxResults: 3, ...(token ? { NextToken: token } : {}) })
      expect(r.status, r.text).toBe(200)
      expect(events(r).length).toBeLessThanOrEqual(3)
      seen.push(...events(r).map((e) => e.EventId))
      token = r.json['NextToken'] as string | undefined
      if (token && !firstToken) firstToken = token
      pages++
    } while (token)
    expect(pages).toBe(3)
    expect(new Set(seen).size).toBe(7)
    const tampered = firstToken.slice(0, -2) + (firstToken.endsWith('AA') ? 'BB' : 'AA')
    for (const body of [
      { ...filter, NextToken: tampered },
      { ...filter, NextToken: 'garbage' },
      {
        LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'ListHosts' }],
        NextToken: firstToken,
      },
    ]) {
      const r = await lookup(body)
      expect(r.status).toBe(400)
      expect(r.json['__type']).toBe('InvalidNextTokenException')
    }
  })

  it("answers the model's errors for bad input", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [
        {
          LookupAttributes: [
            { AttributeKey: 'EventName', AttributeValue: 'A' },
            { AttributeKey: 'Username', AttributeValue: 'B' },
          ],
        },
        'InvalidLookupAttributesException',
      ],
      [
        { LookupAttributes: [{ AttributeKey: 'Colour', AttributeValue: 'x' }] },
        'InvalidLookupAttributesException',
      ],
      [
        { LookupAttributes: [{ AttributeKey: 'ReadOnly', AttributeValue: 'maybe' }] },
        'InvalidLookupAttributesException',
      ],
      [
        { LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: '' }] },
        'InvalidLookupAttributesException',
      ],
      [{ MaxResults: 51 }, 'InvalidMaxResultsException'],
      [{ MaxResults: 0 }, 'InvalidMaxResultsException'],
      [{ EventCategory: 'data' }, 'InvalidEventCategoryException'],
      [{ StartTime: 'yesterday' }, 'InvalidTimeRangeException'],
    ]
    const modelled = model.operations['LookupEvents']!.errors!.map((e) => e.shape)
    for (const [body, code] of cases) {
      const r = await lookup(body)
      expect(r.status, JSON.stringify(body)).toBe(400)
      expect(r.json['__type'], JSON.stringify(body)).toBe(code)
      expect(modelled).toContain(code)
    }
    const unknown = await new RawClient(server.url, server.credentials).call({
      target: 'CloudTrail_20131101.CreateTrail',
      signingService: 'cloudtrail',
      headers: { 'content-type': 'application/x-amz-json-1.1' },
      body: {},
    })
    expect(unknown.json['__type']).toBe('UnknownOperationException')
  })

  it('shows an account only its own events', async () => {
    const foreignArn = arns[0]!.replace(':000000000000:', ':111111111111:')
    const foreignAt = Date.now()
    const foreignId = uuidV7(foreignAt)
    await server.store.audit.append([
      {
        id: foreignId,
        time: foreignAt,
        accountId: '111111111111',
        eventName: 'CreateConnection',
        eventSource: 'codestar-connections.amazonaws.com',
        eventType: 'AwsApiCall',
        readOnly: false,
        principalArn: 'arn:aws:iam::111111111111:root',
        principalType: 'Root',
        accessKeyId: 'AKIAOTHERACCOUNT0001',
        userName: 'root',
        sourceIp: '127.0.0.9',
        userAgent: 'other',
        outcome: 'allowed',
        errorCode: null,
        errorMessage: null,
        decidingStatement: null,
        requestId: 'r',
        region: 'us-east-1',
        requestParameters: null,
        additional: null,
        resources: [{ type: 'AWS::CodeStarConnections::Connection', name: foreignArn }],
      },
    ])
    for (const [AttributeKey, AttributeValue] of [
      ['ResourceName', foreignArn],
      ['EventId', foreignId],
      ['AccessKeyId', 'AKIAOTHERACCOUNT0001'],
    ] as const)
      expect(
        events(await lookup({ LookupAttributes: [{ AttributeKey, AttributeValue }] })),
      ).toEqual([])
    const everything = events(await lookup({ MaxResults: 50 }))
    expect(everything.some((e) => e.EventId === foreignId)).toBe(false)
    const theirs = await server.store.audit.lookup({
      accountId: '111111111111',
      from: 0,
      until: Date.now() + 1000,
      limit: 10,
    })
    expect(theirs.map((e) => e.id)).toEqual([foreignId])
  })

  itWith(needs.aws)(
    'answers aws cloudtrail lookup-events with a filter and a time range',
    async () => {
      const env = {
        ...process.env,
        AWS_ACCESS_KEY_ID: server.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
        AWS_CONFIG_FILE: writeAwsConfig(server),
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        AWS_DEFAULT_REGION: 'us-east-1',
      }
      const start = new Date(firstAt - 2000).toISOString()
      const end = new Date(Date.now() + 60_000).toISOString()
      const r = await run(
        'aws',
        [
          'cloudtrail',
          'lookup-events',
          '--endpoint-url',
          server.url,
          '--lookup-attributes',
          'AttributeKey=EventName,AttributeValue=CreateConnection',
          '--start-time',
          start,
          '--end-time',
          end,
          // Pages of two: the CLI follows NextToken itself.
          '--page-size',
          '2',
          '--output',
          'json',
        ],
        { env },
      )
      const out = JSON.parse(r.stdout) as {
        Events: { EventName: string; CloudTrailEvent: string }[]
      }
      expect(out.Events).toHaveLength(7)
      expect(out.Events.every((e) => e.EventName === 'CreateConnection')).toBe(true)
      const record = JSON.parse(out.Events[0]!.CloudTrailEvent) as Record<string, unknown>
      expect(record['eventSource']).toBe('codestar-connections.amazonaws.com')
      const none = await run(
        'aws',
        [
          'cloudtrail',
          'lookup-events',
          '--endpoint-url',
          server.url,
          '--end-time',
          new Date(firstAt - 3_600_000).toISOString(),
          '--output',
          'json',
        ],
        { env },
      )
      expect((JSON.parse(none.stdout) as { Events: unknown[] }).Events).toEqual([])
    },
  )

  it('exports the trail as JSON lines with junction audit export', async () => {
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: server.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_CONFIG_FILE: '/dev/null',
    }
    const r = await run(
      process.execPath,
      [
        BIN,
        'audit',
        'export',
        '--since',
        '1h',
        '--event-name',
        'CreateConnection',
        '--endpoint-url',
        server.url,
      ],
      { env },
    )
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines).toHaveLength(7)
    expect(lines.every((l) => l['eventName'] === 'CreateConnection')).toBe(true)
    expect(lines[0]).toMatchObject({ recipientAccountId: '000000000000', awsRegion: 'us-east-1' })
    const bad = await run(
      process.execPath,
      [BIN, 'audit', 'export', '--since', 'soon', '--endpoint-url', server.url],
      { env },
    ).catch((e: { code: number; stderr: string }) => e)
    expect(bad).toMatchObject({ code: 2 })
  })
})

describe.each(testEngines())('audit retention and --audit off (%s)', (engine) => {
  it('removes events older than --audit-retention on a moved clock', async () => {
    const clock = testClock()
    const server = await startTestServer(
      engine,
      { 'audit-retention': '2' },
      {},
      { clock: clock.now },
    )
    try {
      const raw = new RawClient(server.url, server.credentials, clock.now)
      const lookup = lookupWith(raw)
      await raw.call({ service: 'codestar-connections', operation: 'ListConnections', body: {} })
      clock.advance(24 * 3600_000)
      await raw.call({ service: 'codestar-connections', operation: 'ListHosts', body: {} })
      await server.audit!.flush()
      expect(await server.audit!.sweep()).toBe(0)
      clock.advance(36 * 3600_000)
      // Now the first call is 60 h old (past 48 h), the second 36 h.
      expect(await server.audit!.sweep()).toBeGreaterThanOrEqual(1)
      const left = events(await lookup({ StartTime: 0 }))
      expect(left.map((e) => e.EventName)).toContain('ListHosts')
      expect(left.map((e) => e.EventName)).not.toContain('ListConnections')
      // LookupEvents' default range is the retention: nothing older is answered.
      expect(events(await lookup({})).map((e) => e.EventName)).toContain('ListHosts')
    } finally {
      await server.stop()
    }
  })

  it('records nothing and serves no LookupEvents with --audit off', async () => {
    const server = await startTestServer(engine, { audit: 'off' })
    try {
      expect(server.audit).toBeUndefined()
      const raw = new RawClient(server.url, server.credentials)
      await raw.call({ service: 'codestar-connections', operation: 'ListConnections', body: {} })
      const r = await lookupWith(raw)({})
      expect(r.json['__type']).toBe('UnknownOperationException')
      const rows = await server.store.audit.lookup({
        accountId: '000000000000',
        from: 0,
        until: Date.now() + 1000,
        limit: 10,
      })
      expect(rows).toEqual([])
    } finally {
      await server.stop()
    }
  })
})
