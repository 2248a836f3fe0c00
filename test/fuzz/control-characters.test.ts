/**
 * Property test: NUL and other control characters in every kind of text member, on both engines.
 * A NUL is refused with a ValidationException before it reaches the store (PostgreSQL text cannot
 * hold it: it used to answer 500); other characters are kept or refused by the member's pattern,
 * never a 5xx; and every IAM/STS XML answer, even one echoing such input, parses with a strict XML
 * parser (Python's expat via xml.etree, and boto3 itself).
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import fc from 'fast-check'
import { expect, it } from 'vitest'
import { CreateConnectionCommand } from '@aws-sdk/client-codestar-connections'
import { describeApi } from '../helpers/api.js'
import { iamClient } from '../helpers/iam.js'
import { CreateUserCommand } from '@aws-sdk/client-iam'

const run = promisify(execFile)
const ACCOUNT = '000000000000'
const form = { 'content-type': 'application/x-www-form-urlencoded' }

/** Characters XML 1.0 cannot carry, and a few it can but parsers treat specially. */
const NASTY = [
  '\u0000',
  '\u0001',
  '\u0008',
  '\u000b',
  '\u000c',
  '\u001b',
  '\u001f',
  '\u007f',
  '\r',
  '\r\n',
  '\ud800',
  '\udfff',
  '\ufffe',
  '\uffff',
  ']]>',
  '<&>',
]

/** A string with at least one of `chars` spliced into random text. */
const withSome = (chars: string[], maxLength = 20) =>
  fc
    .tuple(
      fc.string({ maxLength }),
      fc.array(fc.constantFrom(...chars), { minLength: 1, maxLength: 3 }),
      fc.string({ maxLength: 5 }),
    )
    .map(([a, cs, b]) => `${a}${cs.join(a.slice(0, 2))}${b}`)

const withNul = withSome(['\u0000'])

/** Parses each document with Python's xml.etree (expat, strict); returns the failures. */
async function strictXmlFailures(docs: string[]): Promise<string[]> {
  const script = [
    'import json, sys, xml.etree.ElementTree as E',
    'bad = []',
    'for d in json.load(sys.stdin):',
    '    try: E.fromstring(d.encode("utf-8"))',
    '    except Exception as e: bad.append(str(e) + ": " + d[:200])',
    'print(json.dumps(bad))',
  ].join('\n')
  const child = execFile('python3', ['-c', script])
  const out = new Promise<string>((resolve, reject) => {
    let text = ''
    child.stdout!.on('data', (d: Buffer) => (text += d.toString()))
    child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`exit ${code}`))))
  })
  child.stdin!.end(JSON.stringify(docs))
  return JSON.parse(await out) as string[]
}

describeApi('NUL and control characters in text (property test)', (f) => {
  it('refuses a NUL in connection names and tags with a ValidationException, on every engine', async () => {
    const { ConnectionArn: arn } = await f.sdk.send(
      new CreateConnectionCommand({ ConnectionName: 'nul-victim', ProviderType: 'GitHub' }),
    )
    const before = JSON.stringify(await f.server.store.connections.list(ACCOUNT, {}, 0, 10_000))
    const requests = fc.oneof(
      withNul.map((n) => ({
        operation: 'CreateConnection',
        body: { ConnectionName: n.slice(0, 32), ProviderType: 'GitHub' },
      })),
      fc.tuple(withNul, fc.string({ maxLength: 10 })).map(([k, v]) => ({
        operation: 'CreateConnection',
        body: {
          ConnectionName: 'tagged',
          ProviderType: 'GitHub',
          Tags: [{ Key: `k${k}`.slice(0, 128), Value: v }],
        },
      })),
      fc.tuple(fc.string({ minLength: 1, maxLength: 10 }), withNul).map(([k, v]) => ({
        operation: 'TagResource',
        body: { ResourceArn: arn, Tags: [{ Key: k, Value: v.slice(0, 256) }] },
      })),
      withNul.map((n) => ({
        operation: 'CreateHost',
        body: {
          Name: n.slice(0, 64) || '\u0000',
          ProviderType: 'GitHubEnterpriseServer',
          ProviderEndpoint: 'https://h.example.com',
        },
      })),
      withNul.map((t) => ({ operation: 'ListConnections', body: { NextToken: t } })),
      withNul.map((t) => ({ operation: 'GetConnection', body: { ConnectionArn: `${arn}${t}` } })),
    )
    await fc.assert(
      fc.asyncProperty(requests, async (req) => {
        const res = await f.raw.call(req)
        expect(res.status, `${JSON.stringify(req)} → ${res.text.slice(0, 300)}`).toBe(400)
        expect(res.json.__type).toBe('ValidationException')
        expect(typeof res.json.Message).toBe('string')
      }),
      { numRuns: 150 },
    )
    // The NUL found by the review, exactly: a connection name, and a tag value.
    const name = await f.raw.call({
      operation: 'CreateConnection',
      body: { ConnectionName: 'a\u0000b', ProviderType: 'GitHub' },
    })
    expect(name.status).toBe(400)
    expect(name.json.Message).toMatch(/connectionName.*NUL/)
    expect(JSON.stringify(await f.server.store.connections.list(ACCOUNT, {}, 0, 10_000))).toBe(
      before,
    )
    expect((await fetch(`${f.server.url}/health`)).status).toBe(200)
  })

  it('keeps other control characters in names as sent, never a 5xx', async () => {
    const others = NASTY.filter((c) => c !== '\u0000')
    let n = 0
    await fc.assert(
      fc.asyncProperty(withSome(others, 10), async (raw) => {
        const name = `${++n}-${raw}`.slice(0, 32)
        const res = await f.raw.call({
          operation: 'CreateConnection',
          body: { ConnectionName: name, ProviderType: 'GitHub' },
        })
        expect(res.status, `${JSON.stringify(name)} → ${res.text.slice(0, 300)}`).toBeLessThan(500)
        if (res.status !== 200) return
        const got = await f.raw.call({
          operation: 'GetConnection',
          body: { ConnectionArn: res.json.ConnectionArn },
        })
        // Lone surrogates cannot cross UTF-8; everything else comes back exactly.
        if (!/[\ud800-\udfff]/.test(name))
          expect((got.json.Connection as { ConnectionName: string }).ConnectionName).toBe(name)
        await f.raw.call({
          operation: 'DeleteConnection',
          body: { ConnectionArn: res.json.ConnectionArn },
        })
      }),
      { numRuns: 60 },
    )
  })

  it('answers IAM and STS requests echoing control characters with well-formed XML', async () => {
    const iam = iamClient(f.server.url, f.server.credentials)
    await iam.send(new CreateUserCommand({ UserName: 'xml-user' }))
    iam.destroy()
    // Percent-encoded UTF-8 of every byte (encodeURIComponent throws on a lone surrogate).
    const enc = (s: string) => Buffer.from(s).toString('hex').replace(/../g, '%$&')
    const text = withSome(NASTY, 12)
    const requests = fc.oneof(
      text.map((n) => `Action=GetUser&UserName=${enc(n)}`),
      text.map((n) => `Action=CreateUser&UserName=${enc(n)}`),
      text.map((n) => `Action=CreateUser&UserName=ok&Path=${enc(`/${n}/`)}`),
      text.map(
        (n) => `Action=PutUserPolicy&UserName=xml-user&PolicyName=${enc(n)}&PolicyDocument=x`,
      ),
      text.map(
        (d) =>
          `Action=PutUserPolicy&UserName=xml-user&PolicyName=p&PolicyDocument=${enc(`{"Version":"2012-10-17","Statement":[{"Effect":"${d}"}]}`)}`,
      ),
      text.map((m) => `Action=ListUsers&Marker=${enc(m)}`),
      text.map((a) => `Action=${enc(a)}`),
      text.map((s) => ({
        sts: true,
        body: `Action=AssumeRole&RoleArn=${enc(`arn:aws:iam::${ACCOUNT}:role/${s}`)}&RoleSessionName=${enc(s)}`,
      })),
    )
    const docs: string[] = []
    await fc.assert(
      fc.asyncProperty(requests, async (r) => {
        const sts = typeof r === 'object'
        const res = await f.raw.call({
          target: null,
          signingService: sts ? 'sts' : 'iam',
          headers: form,
          rawBody: sts ? r.body : r,
        })
        // Refused, or (a path of printable characters) created: never a 5xx, always XML.
        expect(res.status, res.text.slice(0, 300)).toBeLessThan(500)
        docs.push(res.text)
      }),
      { numRuns: 200 },
    )
    expect(docs).toHaveLength(200)
    expect(await strictXmlFailures(docs)).toEqual([])
  })

  it('gives boto3 an error it can parse for a user name full of control characters', async () => {
    const script = [
      'import boto3, botocore, sys',
      `c = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])`,
      'try:',
      '    c.get_user(UserName="a\\x00b\\x01c\\x1b\\ufffed\\r")',
      '    print("no error")',
      'except botocore.exceptions.ClientError as e:',
      '    print(e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])',
    ].join('\n')
    const { stdout } = await run('python3', [
      '-c',
      script,
      f.server.url,
      f.server.credentials.accessKeyId,
      f.server.credentials.secretAccessKey,
    ])
    expect(stdout.trim()).toBe('ValidationError 400')
  })
})
