/**
 * Property test: hundreds of malformed requests of every kind. Each must get a 4xx AWS-shaped
 * error (never a 5xx, never a success), the server must stay up, and nothing may change.
 */
import { connect } from 'node:net'
import fc from 'fast-check'
import { expect, it } from 'vitest'
import {
  CreateConnectionCommand,
  CreateHostCommand,
  TagResourceCommand,
} from '@aws-sdk/client-codestar-connections'
import { describeApi } from '../helpers/api.js'
import { TARGETS, type RawRequest } from '../helpers/client.js'

const ACCOUNT = '000000000000'
const ops = [
  'CreateConnection',
  'GetConnection',
  'ListConnections',
  'DeleteConnection',
  'CreateHost',
  'GetHost',
  'ListHosts',
  'UpdateHost',
  'DeleteHost',
  'TagResource',
  'UntagResource',
  'ListTagsForResource',
] as const

/** A JSON value of a type different from the one the member needs. */
const wrongFor = (kind: 'string' | 'number' | 'list' | 'object') =>
  fc.oneof(
    ...(kind !== 'string' ? [fc.string()] : []),
    // (No infinity: JSON.stringify writes it as null, which reads as absent, as AWS reads it.)
    ...(kind !== 'number'
      ? [fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })]
      : []),
    ...(kind !== 'list' ? [fc.array(fc.anything(), { maxLength: 3 })] : []),
    ...(kind !== 'object'
      ? [fc.dictionary(fc.string({ maxLength: 5 }), fc.anything(), { maxKeys: 3 })]
      : []),
    fc.boolean(),
  )

/** One part of a valid `Authorization` header and what to put there instead. */
type Part = 'algorithm' | 'key' | 'date' | 'region' | 'service' | 'terminator' | 'signed' | 'sig'
const hex = (min: number, max: number) =>
  fc
    .array(fc.constantFrom(...'0123456789abcdef'), { minLength: min, maxLength: max })
    .map((a) => a.join(''))
const brokenPart: fc.Arbitrary<[Part, string]> = fc.oneof(
  // Signatures of every wrong length, wrong alphabet or case.
  fc.tuple(fc.constant<Part>('sig'), fc.oneof(hex(0, 63), hex(65, 130))),
  fc.tuple(
    fc.constant<Part>('sig'),
    fc.string({ minLength: 64, maxLength: 64 }).filter((x) => !/^[0-9a-f]{64}$/.test(x)),
  ),
  fc.tuple(fc.constant<Part>('sig'), fc.constant('UPPER')),
  fc.tuple(fc.constant<Part>('sig'), hex(64, 64)),
  // SignedHeaders without host, with unknown or repeated names, or empty.
  fc.tuple(
    fc.constant<Part>('signed'),
    fc.oneof(
      fc.constant('x-amz-date'),
      fc.constant(''),
      fc.constant('host;host;x-amz-date'),
      fc
        .array(fc.stringMatching(/^[a-z-]{1,12}$/), { minLength: 1, maxLength: 4 })
        .map((a) => a.join(';')),
    ),
  ),
  // Each credential scope part replaced (a valid key id stays in all but 'key').
  fc.tuple(
    fc.constantFrom<Part>('algorithm', 'key', 'date', 'region', 'service', 'terminator'),
    fc.oneof(
      fc.string({ maxLength: 24 }),
      fc.constantFrom('', 'AWS4-HMAC-SHA512', '20250101', 'eu-west-1', 's3', 'aws4_request '),
    ),
  ),
)

function breakPart(h: Record<string, string>, part: Part, value: string): void {
  const m =
    /^(\S+) Credential=([^/]*)\/([^/]*)\/([^/]*)\/([^/]*)\/([^,]*), SignedHeaders=([^,]*), Signature=(\S*)$/.exec(
      h['authorization']!,
    )!
  const [, algorithm, key, date, region, service, terminator, signed, sig] = m
  const p = { algorithm, key, date, region, service, terminator, signed, sig } as Record<
    Part,
    string
  >
  p[part] = part === 'sig' && value === 'UPPER' ? p.sig.toUpperCase() : value
  h['authorization'] =
    `${p.algorithm} Credential=${p.key}/${p.date}/${p.region}/${p.service}/${p.terminator}, ` +
    `SignedHeaders=${p.signed}, Signature=${p.sig}`
}

describeApi(
  'Malformed requests (property test)',
  (f) => {
    const snapshot = async () => {
      const conns = await f.server.store.connections.list(ACCOUNT, {}, 0, 10_000)
      const hosts = await f.server.store.hosts.list(ACCOUNT, 0, 10_000)
      const tags = await Promise.all(
        [...conns, ...hosts].map((r) => f.server.store.tags.list(ACCOUNT, r.arn)),
      )
      return JSON.stringify({ conns, hosts, tags })
    }

    /** Built once the victims exist, so that requests aim at real resources. */
    const malformedRequests = (connArn: string, hostArn: string): fc.Arbitrary<RawRequest> =>
      fc.oneof(
        // Unknown or garbled targets.
        fc.record({ target: fc.string({ maxLength: 80 }), body: fc.constant({}) }),
        fc.record({
          target: fc.constantFrom(...Object.values(TARGETS)).chain((t) =>
            fc
              .string({ maxLength: 30 })
              .filter((s) => !ops.includes(s as never) && !s.includes('.'))
              .map((s) => `${t}.${s}`),
          ),
          body: fc.constant({}),
        }),
        // Bodies that are not JSON objects.
        fc.record({
          operation: fc.constantFrom(...ops),
          rawBody: fc.oneof(
            fc.string({ minLength: 1 }).filter((s) => {
              try {
                const v: unknown = JSON.parse(s)
                return typeof v !== 'object' || v === null || Array.isArray(v)
              } catch {
                return true
              }
            }),
            fc.constant('{"a":'),
            fc.constant('[1,2]'),
            fc.constant('\u0000'),
            fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Buffer.from(b)),
          ),
        }),
        // Members of the wrong type.
        fc.oneof(
          wrongFor('string').map((v) => ({
            operation: 'CreateConnection',
            body: { ConnectionName: v, ProviderType: 'GitHub' },
          })),
          wrongFor('string').map((v) => ({
            operation: 'GetConnection',
            body: { ConnectionArn: v },
          })),
          wrongFor('number')
            .filter((v) => v !== null)
            .map((v) => ({ operation: 'ListConnections', body: { MaxResults: v } })),
          wrongFor('list')
            .filter((v) => v !== null)
            .map((v) => ({ operation: 'TagResource', body: { ResourceArn: connArn, Tags: v } })),
          wrongFor('object')
            .filter((v) => v !== null)
            .map((v) => ({
              operation: 'CreateHost',
              body: {
                Name: 'h',
                ProviderType: 'GitHubEnterpriseServer',
                ProviderEndpoint: 'https://x.example.com',
                VpcConfiguration: v,
              },
            })),
          wrongFor('list')
            .filter((v) => v !== null)
            .map((v) => ({
              operation: 'UntagResource',
              body: { ResourceArn: connArn, TagKeys: v },
            })),
        ),
        // Constraint violations.
        fc.oneof(
          fc.string({ minLength: 33, maxLength: 200 }).map((n) => ({
            operation: 'CreateConnection',
            body: { ConnectionName: n, ProviderType: 'GitHub' },
          })),
          fc
            .string({ maxLength: 20 })
            .filter(
              (p) =>
                ![
                  'Bitbucket',
                  'GitHub',
                  'GitHubEnterpriseServer',
                  'GitLab',
                  'GitLabSelfManaged',
                  'AzureDevOps',
                ].includes(p),
            )
            .map((p) => ({
              operation: 'CreateConnection',
              body: { ConnectionName: 'ok', ProviderType: p },
            })),
          fc
            .oneof(fc.integer({ max: -1 }), fc.integer({ min: 101 }))
            .map((m) => ({ operation: 'ListConnections', body: { MaxResults: m } })),
          fc
            .string({ maxLength: 300 })
            .filter((s) => !/^arn:aws(-[\w]+)*:.+:.+:[0-9]{12}:.+$/.test(s))
            .map((a) => ({ operation: 'DeleteConnection', body: { ConnectionArn: a } })),
          fc.string({ minLength: 129, maxLength: 300 }).map((k) => ({
            operation: 'TagResource',
            body: { ResourceArn: connArn, Tags: [{ Key: k, Value: 'v' }] },
          })),
          fc
            .array(
              fc.record({
                Key: fc.string({ minLength: 1, maxLength: 10 }),
                Value: fc.string({ maxLength: 5 }),
              }),
              { minLength: 201, maxLength: 260 },
            )
            .map((tags) => ({
              operation: 'TagResource',
              body: { ResourceArn: connArn, Tags: tags },
            })),
          fc.string({ maxLength: 40 }).map((v) => ({
            operation: 'UpdateHost',
            body: {
              HostArn: hostArn,
              VpcConfiguration: { VpcId: `x${v}`, SubnetIds: [], SecurityGroupIds: [] },
            },
          })),
          fc
            .string({ maxLength: 40 })
            .filter((s) => {
              try {
                return !['http:', 'https:'].includes(new URL(s).protocol)
              } catch {
                return true
              }
            })
            .map((e) => ({
              operation: 'UpdateHost',
              body: { HostArn: hostArn, ProviderEndpoint: e || 'x' },
            })),
          fc.constant({
            operation: 'CreateConnection',
            body: { ConnectionName: 'needs-host', ProviderType: 'GitLabSelfManaged' },
          }),
          fc.constant({
            operation: 'CreateHost',
            body: {
              Name: 'cloud',
              ProviderType: 'Bitbucket',
              ProviderEndpoint: 'https://bitbucket.org',
            },
          }),
          fc.constant({ operation: 'DeleteHost', body: { HostArn: hostArn } }),
          fc.constant({
            operation: 'ListConnections',
            body: { NextToken: 'eyJvIjoiTGlzdENvbm5lY3Rpb25zIn0.AAAA' },
          }),
        ),
        // Broken authentication.
        fc.oneof(
          fc.string({ maxLength: 200 }).map((a) => ({
            operation: 'CreateConnection',
            body: { ConnectionName: 'auth', ProviderType: 'GitHub' },
            credentials: null,
            headers: { authorization: a, 'x-amz-date': '20260101T000000Z' },
          })),
          fc.string({ maxLength: 30 }).map((d) => ({
            operation: 'DeleteConnection',
            body: { ConnectionArn: connArn },
            credentials: null,
            headers: {
              authorization: `AWS4-HMAC-SHA256 Credential=${f.server.credentials.accessKeyId}/20260101/us-east-1/codeconnections/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
              'x-amz-date': d,
            },
          })),
          fc.string({ minLength: 1, maxLength: 40 }).map((s) => ({
            operation: 'DeleteConnection',
            body: { ConnectionArn: connArn },
            credentials: { accessKeyId: f.server.credentials.accessKeyId, secretAccessKey: s },
          })),
          fc.constantFrom('s3', 'iam', 'codepipeline', 'codestar').map((svc) => ({
            operation: 'DeleteConnection',
            body: { ConnectionArn: connArn },
            signingService: svc,
          })),
          fc.integer({ min: 16, max: 10_000 }).map((m) => ({
            operation: 'DeleteConnection',
            body: { ConnectionArn: connArn },
            signingDate: new Date(Date.now() - m * 60_000),
          })),
          // Well-formed and signed with the valid key, then one part broken.
          brokenPart.map(([part, value]) => ({
            operation: 'DeleteConnection',
            body: { ConnectionArn: connArn },
            afterSign: (h: Record<string, string>) => breakPart(h, part, value),
            broken: { part, value },
          })),
        ),
      ) as fc.Arbitrary<RawRequest>

    it('answers every malformed request with a 4xx AWS-shaped error and changes nothing', async () => {
      const connArn = (
        await f.sdk.send(
          new CreateConnectionCommand({
            ConnectionName: 'victim',
            ProviderType: 'GitHub',
            Tags: [{ Key: 'keep', Value: 'me' }],
          }),
        )
      ).ConnectionArn!
      const hostArn = (
        await f.sdk.send(
          new CreateHostCommand({
            Name: 'h',
            ProviderType: 'GitHubEnterpriseServer',
            ProviderEndpoint: 'https://h.example.com',
            VpcConfiguration: {
              VpcId: 'vpc-12345678',
              SubnetIds: ['subnet-12345678'],
              SecurityGroupIds: ['sg-12345678'],
            },
          }),
        )
      ).HostArn!
      await f.sdk.send(
        new CreateConnectionCommand({ ConnectionName: 'quota-filler', ProviderType: 'GitHub' }),
      )
      await f.sdk.send(
        new TagResourceCommand({ ResourceArn: connArn, Tags: [{ Key: 'b', Value: '' }] }),
      )
      const before = await snapshot()
      let count = 0
      await fc.assert(
        fc.asyncProperty(malformedRequests(connArn, hostArn), async (req) => {
          count++
          const res = await f.raw.call(req)
          expect(
            res.status,
            `${JSON.stringify(req).slice(0, 300)} → ${res.text.slice(0, 300)}`,
          ).toBeGreaterThanOrEqual(400)
          expect(res.status).toBeLessThan(500)
          expect(typeof res.json.__type).toBe('string')
          expect(typeof res.json.Message).toBe('string')
          expect(res.headers.get('x-amzn-errortype')).toBe(res.json.__type)
        }),
        { numRuns: 400 },
      )
      expect(count).toBe(400)
      expect(await snapshot()).toBe(before)
      expect((await fetch(`${f.server.url}/health`)).status).toBe(200)
    })

    it('answers garbage on the socket with 400 and keeps serving', async () => {
      const u = new URL(f.server.url)
      const garbage = [
        '\u0000\u0001\u0002\r\n\r\n',
        'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
        'GET /health HTTP/9.9\r\n\r\n',
        'POST / HTTP/1.1\r\nBad Header\r\n\r\n',
      ]
      for (const g of garbage) {
        const reply = await new Promise<string>((resolveReply) => {
          const sock = connect(Number(u.port), u.hostname, () => sock.end(g))
          let data = ''
          sock.on('data', (d: Buffer) => (data += d.toString()))
          sock.on('close', () => resolveReply(data))
          sock.on('error', () => resolveReply(data))
        })
        expect(reply === '' || /^HTTP\/1\.1 4\d\d/.test(reply)).toBe(true)
        expect(reply).not.toMatch(/^HTTP\/1\.1 5/)
      }
      expect((await fetch(`${f.server.url}/health`)).status).toBe(200)
    })
  },
  { 'connection-quota': '2', 'vpc-init-delay': '3600' },
)
