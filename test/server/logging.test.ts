/**
 * `--log-format json|pretty` and request ids, on the real `junction serve` bin: every line written
 * while a request is served names its id, the same id the answer carries in `x-amzn-RequestId`
 * (and in a Query error's body); no secret reaches a line.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signRequest } from '../../src/protocol/sigv4/sign.js'
import { prettyLine } from '../../src/server/logging.js'
import { RawClient, type Credentials } from '../helpers/client.js'
import { BIN } from '../helpers/process.js'

interface Serve {
  child: ChildProcess
  url: string
  out: () => string
  dataDir: string
  root: Credentials
  stop(): Promise<void>
}

/** Starts the bin with `flags`; resolves once it logged that it listens (in either format). */
async function serve(flags: string[]): Promise<Serve> {
  const dataDir = mkdtempSync(join(tmpdir(), 'junction-logs-'))
  const root = {
    accessKeyId: 'JKIALOGTEST' + randomBytes(5).toString('hex').toUpperCase().slice(0, 9),
    secretAccessKey: randomBytes(30).toString('base64url'),
  }
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, ...flags],
    {
      env: {
        PATH: process.env['PATH'],
        HOME: process.env['HOME'],
        JUNCTION_ROOT_ACCESS_KEY_ID: root.accessKeyId,
        JUNCTION_ROOT_SECRET_ACCESS_KEY: root.secretAccessKey,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`junction did not start:\n${out}`)), 30_000)
    const check = () => {
      const line = out.split('\n').find((l) => l.includes('junction is listening'))
      const m = line && /"?url"?[=:]"?(http:\/\/[\d.:]+)/.exec(line)
      if (m) {
        clearTimeout(timer)
        resolveUrl(m[1]!)
      }
    }
    child.stdout!.on('data', check)
    child.once('exit', (code) => reject(new Error(`junction exited with ${code}:\n${out}`)))
  })
  return {
    child,
    url,
    out: () => out,
    dataDir,
    root,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await exited
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** Waits until the output has a line naming `id` (lines leave a buffer within 200 ms). */
async function lineWith(s: Serve, id: string): Promise<void> {
  for (let i = 0; i < 200 && !s.out().includes(id); i++) await new Promise((r) => setTimeout(r, 25))
  expect(s.out()).toContain(id)
}

const requestIdOf = (res: { headers: Headers }) => {
  const id = res.headers.get('x-amzn-requestid')
  expect(id).toMatch(/^[0-9a-f-]{36}$/)
  return id!
}

/** An IAM (Query protocol) call; answers in XML. */
async function iamCall(url: string, creds: Credentials, params: Record<string, string>) {
  const u = new URL(`${url}/`)
  const body = new URLSearchParams({ Version: '2010-05-08', ...params }).toString()
  const headers = signRequest(
    u,
    body,
    { 'content-type': 'application/x-www-form-urlencoded' },
    creds,
    'iam',
    'us-east-1',
  )
  const { host: _h, ...send } = headers
  return fetch(u, { method: 'POST', headers: send, body })
}

/** Things no log line may hold. */
const secretsOf = (s: Serve, more: string[]) => [
  s.root.secretAccessKey,
  readFileSync(join(s.dataDir, 'master.key'), 'utf8').trim(),
  ...more,
]

describe('JSON log lines (--log-format json)', () => {
  let s: Serve
  beforeAll(async () => {
    s = await serve(['--log-format', 'json'])
  })
  afterAll(() => s?.stop())

  it('gives every line of a request the id of its answer, and keeps secrets out', async () => {
    const client = new RawClient(s.url, s.root)
    const ok = await client.call({ operation: 'ListConnections', body: {} })
    expect(ok.status).toBe(200)
    const okId = requestIdOf(ok)

    // A user with its own key: 20 wrong signatures throttle the key, which is logged while the
    // 20th request is served (a line from the throttle, not from the front door).
    const userName = 'log-user'
    expect((await iamCall(s.url, s.root, { Action: 'CreateUser', UserName: userName })).ok).toBe(
      true,
    )
    const keyXml = await (
      await iamCall(s.url, s.root, { Action: 'CreateAccessKey', UserName: userName })
    ).text()
    const user = {
      accessKeyId: /<AccessKeyId>([^<]+)</.exec(keyXml)![1]!,
      secretAccessKey: /<SecretAccessKey>([^<]+)</.exec(keyXml)![1]!,
    }
    const wrong = {
      accessKeyId: user.accessKeyId,
      secretAccessKey: 'wrong-' + randomBytes(20).toString('hex'),
    }
    let last = ''
    for (let i = 0; i < 20; i++) {
      const res = await client.call({ operation: 'ListConnections', body: {}, credentials: wrong })
      expect(res.status).toBe(403)
      last = requestIdOf(res)
    }
    // A Query error carries the id in its body too.
    const denied = await iamCall(s.url, wrong, { Action: 'ListUsers' })
    const deniedId = requestIdOf(denied)
    expect(await denied.text()).toContain(`<RequestId>${deniedId}</RequestId>`)
    // A page (not the API) answers with an id as well.
    const missing = await fetch(`${s.url}/no/such/page`)
    expect(missing.status).toBe(404)
    const missingId = requestIdOf(missing)

    await lineWith(s, missingId)
    const lines = s
      .out()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    const of = (id: string) => lines.filter((l) => l['reqId'] === id)
    expect(of(okId)).toEqual([
      expect.objectContaining({ msg: 'request', op: 'ListConnections', status: 200 }),
    ])
    expect(of(last).map((l) => l['msg'])).toEqual([
      'API requests throttled for this access key: too many wrong signatures',
      'request',
    ])
    expect(of(last)[1]).toMatchObject({ status: 403, error: 'InvalidSignatureException' })
    expect(of(deniedId)).toEqual([expect.objectContaining({ msg: 'request', service: 'iam' })])
    expect(of(missingId)).toEqual([
      expect.objectContaining({ msg: 'request', status: 404, error: 'NotFoundException' }),
    ])
    // Every request line has an id, each id once.
    const requests = lines.filter((l) => l['msg'] === 'request')
    expect(requests.length).toBeGreaterThanOrEqual(25)
    expect(new Set(requests.map((l) => l['reqId'])).size).toBe(requests.length)
    for (const secret of secretsOf(s, [user.secretAccessKey, wrong.secretAccessKey]))
      expect(s.out()).not.toContain(secret)
  })
})

describe('pretty log lines (--log-format pretty)', () => {
  let s: Serve
  beforeAll(async () => {
    s = await serve(['--log-format', 'pretty', '--log-level', 'debug'])
  })
  afterAll(() => s?.stop())

  it('writes one readable line per request, with the id of its answer', async () => {
    const res = await new RawClient(s.url, s.root).call({ operation: 'ListConnections', body: {} })
    expect(res.status).toBe(200)
    const id = requestIdOf(res)
    await lineWith(s, id)
    const line = s
      .out()
      .split('\n')
      .find((l) => l.includes(id))!
    expect(line).toMatch(
      new RegExp(
        `^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  request reqId=${id} op=ListConnections status=200 ms=[\\d.]+ service=codeconnections principal=arn:aws:iam::000000000000:root$`,
      ),
    )
    // Not JSON anywhere, and no colour codes off a terminal.
    expect(s.out()).not.toMatch(/^\{"level"/m)
    expect(s.out()).not.toContain('\x1b[')
    for (const secret of secretsOf(s, [])) expect(s.out()).not.toContain(secret)
  })
})

describe('--log-format and --log-level values', () => {
  it('refuses an unknown format, naming the flag', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', '--log-format', 'xml'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let err = ''
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    const code = await new Promise((r) => child.once('exit', r))
    expect(code).not.toBe(0)
    expect(err).toContain('--log-format must be json or pretty')
  })

  it('formats an error with its stack below the line, and passes non-JSON through', () => {
    const json = JSON.stringify({
      level: 50,
      time: Date.UTC(2026, 0, 2, 3, 4, 5, 6),
      msg: 'unhandled error',
      reqId: 'r-1',
      err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x (y.js:1:1)' },
    })
    expect(prettyLine(json, false)).toBe(
      '03:04:05.006 ERROR unhandled error reqId=r-1\n    Error: boom\n        at x (y.js:1:1)\n',
    )
    expect(prettyLine(json, true)).toContain('\x1b[31mERROR\x1b[0m')
    expect(prettyLine('not json\n', false)).toBe('not json\n')
  })
})
