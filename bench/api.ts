/**
 * `npm run bench:api` — GetConnection throughput against a bare node:http baseline, in one run.
 *
 * 1. Starts Junction (the built bin, SQLite, default logging to /dev/null) and creates
 *    BENCH_CONNECTIONS connections (default 10,000) through the API.
 * 2. Drives a validly signed GetConnection with wrk (a separate process): as the root, and as an
 *    IAM user whose five-statement policy is evaluated on every call.
 * 3. Starts a bare node:http server that answers the same bytes, drives it the same way.
 * 4. Interleaves BENCH_ROUNDS runs of each (default 3, BENCH_DURATION each) and reports medians:
 *    requests/s, p99, the ratio to the baseline (target ≥ 0.5) and the policy's cost (target ≤ 10%),
 *    then ListConnections page latency at the first and the last page (keyset pagination keeps it
 *    flat), and Junction's RSS.
 *
 * BENCH_VARIANTS compares other Junctions in the same run, on the same data: `name=flags` (extra
 * serve flags, e.g. `metrics=--metrics-port 0`) or `name=@/path/to/dist/cli/main.js flags` (another
 * build), several separated by `|`. Each is started after seeding, driven as the root in every
 * round between the others, and reported with its ratio to Junction's requests/s and CPU time.
 *
 * Every run also reports the server's CPU time per request (from /proc: steadier than requests/s
 * on a shared machine).
 *
 * Everything runs on loopback and stops by itself.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { SignatureV4 } from '@smithy/signature-v4'
import { Hash } from '@smithy/hash-node'
import { signRequest } from '../src/protocol/sigv4/sign.js'

const run = promisify(execFile)
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 10_000)
const DURATION = process.env['BENCH_DURATION'] ?? '5s'
const CONNS = process.env['BENCH_WRK_CONNECTIONS'] ?? '32'
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3)
const BIN = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js')

interface Creds {
  accessKeyId: string
  secretAccessKey: string
}

/**
 * Pins a process to one CPU when `taskset` exists: the server under test on CPU 0, wrk on CPU 1,
 * so that both servers meet the same contention and runs are repeatable.
 */
const hasTaskset = await run('taskset', ['-c', '0', 'true']).then(
  () => true,
  () => false,
)
const pinned = (cpu: number, cmd: string, args: string[]): [string, string[]] =>
  hasTaskset ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, args]

async function waitForPort(port: number, path: string): Promise<void> {
  // Up to a minute: a busy machine starts a server slowly.
  for (let i = 0; i < 1200; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}${path}`)
      return
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`nothing listens on ${port}`)
}

async function startBaseline(port: number, body: string): Promise<ChildProcess> {
  const code = `
    const body = ${JSON.stringify(body)}
    require('node:http').createServer((rq, rs) => {
      rq.resume()
      rq.on('end', () => {
        rs.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.0', 'Content-Length': Buffer.byteLength(body), 'x-amzn-RequestId': '00000000-0000-4000-8000-000000000000' })
        rs.end(body)
      })
    }).listen(${port}, '127.0.0.1')`
  const [cmd, args] = pinned(0, process.execPath, ['-e', code])
  const child = spawn(cmd, args, { stdio: 'ignore' })
  await waitForPort(port, '/')
  return child
}

async function startJunction(
  dataDir: string,
  port: number,
  bin = BIN,
  extra: string[] = [],
): Promise<ChildProcess> {
  // BENCH_NODE_ARGS passes flags to Junction's node (e.g. --cpu-prof) for profiling.
  const nodeArgs = process.env['BENCH_NODE_ARGS']?.split(' ').filter(Boolean) ?? []
  const flags = ['serve', '--data-dir', dataDir, '--port', String(port), ...extra]
  flags.push('--connection-quota', String(CONNECTIONS + 10))
  if (process.env['BENCH_LOG_LEVEL']) flags.push('--log-level', process.env['BENCH_LOG_LEVEL'])
  const [cmd, args] = pinned(0, process.execPath, [...nodeArgs, bin, ...flags])
  // Junction logs every request as usual; the lines go to /dev/null.
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] })
  await waitForPort(port, '/health')
  return child
}

/** Calls an IAM action (Query protocol) as `creds` and returns the XML answer. */
async function iamCall(
  port: number,
  creds: Creds,
  params: Record<string, string>,
): Promise<string> {
  const url = new URL(`http://127.0.0.1:${port}/`)
  const body = new URLSearchParams({ Version: '2010-05-08', ...params }).toString()
  const headers = signRequest(
    url,
    body,
    { 'content-type': 'application/x-www-form-urlencoded' },
    creds,
    'iam',
    'us-east-1',
  )
  const { host: _h, ...send } = headers
  const res = await fetch(url, { method: 'POST', headers: send, body })
  const text = await res.text()
  if (!res.ok) throw new Error(`IAM ${params['Action']} failed: ${text}`)
  return text
}

/** An IAM user whose inline policy has five statements with conditions, as a team would write. */
async function userWithRealisticPolicy(port: number, root: Creds): Promise<Creds> {
  const statements = [
    {
      Sid: 'ReadConnections',
      Effect: 'Allow',
      Action: ['codestar-connections:Get*', 'codestar-connections:List*'],
      Resource: 'arn:aws:codestar-connections:*:000000000000:connection/*',
      Condition: { StringEquals: { 'aws:RequestedRegion': 'us-east-1' } },
    },
    {
      Sid: 'CreateBitbucket',
      Effect: 'Allow',
      Action: 'codestar-connections:CreateConnection',
      Resource: '*',
      Condition: {
        StringEquals: { 'codestar-connections:ProviderType': 'Bitbucket' },
        'ForAllValues:StringEquals': { 'aws:TagKeys': ['team', 'env'] },
      },
    },
    {
      Sid: 'UsePaymentsRepos',
      Effect: 'Allow',
      Action: 'codestar-connections:UseConnection',
      Resource: '*',
      Condition: { StringLike: { 'codestar-connections:FullRepositoryId': 'payments/*' } },
    },
    {
      Sid: 'OnlyAdminsDelete',
      Effect: 'Deny',
      Action: 'codestar-connections:Delete*',
      Resource: '*',
      Condition: { StringNotEquals: { 'aws:username': 'admin' } },
    },
    {
      Sid: 'LoopbackOnly',
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: { NotIpAddress: { 'aws:SourceIp': ['127.0.0.0/8', '::1/128'] } },
    },
  ]
  await iamCall(port, root, { Action: 'CreateUser', UserName: 'bench-user' })
  await iamCall(port, root, {
    Action: 'PutUserPolicy',
    UserName: 'bench-user',
    PolicyName: 'realistic',
    PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: statements }),
  })
  const xml = await iamCall(port, root, { Action: 'CreateAccessKey', UserName: 'bench-user' })
  return {
    accessKeyId: /<AccessKeyId>([^<]+)</.exec(xml)![1]!,
    secretAccessKey: /<SecretAccessKey>([^<]+)</.exec(xml)![1]!,
  }
}

function readCreds(dataDir: string): Creds {
  const text = readFileSync(join(dataDir, 'credentials'), 'utf8')
  return {
    accessKeyId: /aws_access_key_id = (\S+)/.exec(text)![1]!,
    secretAccessKey: /aws_secret_access_key = (\S+)/.exec(text)![1]!,
  }
}

async function signed(port: number, creds: Creds, operation: string, body: unknown) {
  const signer = new SignatureV4({
    service: 'codestar-connections',
    region: 'us-east-1',
    credentials: creds,
    sha256: Hash.bind(null, 'sha256'),
  })
  const text = JSON.stringify(body)
  // Signs every header given, X-Amz-Target and Content-Type included: Junction refuses them unsigned.
  const req = await signer.sign({
    method: 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port,
    path: '/',
    headers: {
      host: `127.0.0.1:${port}`,
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `CodeStar_connections_20191201.${operation}`,
    },
    body: text,
  })
  return { headers: req.headers as Record<string, string>, body: text }
}

async function call(port: number, creds: Creds, operation: string, body: unknown) {
  const { headers, body: text } = await signed(port, creds, operation, body)
  const { host: _h, ...h } = headers
  const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: h, body: text })
  const json = (await res.json()) as Record<string, unknown>
  if (!res.ok) throw new Error(`${operation} failed: ${JSON.stringify(json)}`)
  return json
}

interface WrkResult {
  rps: number
  p99ms: number
  non2xx: number
  /** The server's CPU time (user + system) per request, in µs; NaN when unknown. */
  cpuUs: number
}

/** A process's CPU time so far, in clock ticks (utime + stime of /proc/<pid>/stat). */
function cpuTicks(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[11]) + Number(fields[12])
  } catch {
    return NaN
  }
}
/** Clock ticks per second (USER_HZ, 100 on Linux). */
const HZ = 100

/** The server process behind a `taskset` wrapper (taskset execs, so the pid is the server's). */
async function measured(pid: number | undefined, url: string, lua: string): Promise<WrkResult> {
  const before = cpuTicks(pid)
  const r = await wrk(url, lua)
  const ticks = cpuTicks(pid) - before
  return { ...r, cpuUs: (ticks / HZ / (r.requests || 1)) * 1e6 }
}

/** The run with the median requests/s. */
const medianRun = (runs: WrkResult[]): WrkResult =>
  [...runs].sort((x, y) => x.rps - y.rps)[Math.floor(runs.length / 2)]!

async function wrk(
  url: string,
  luaFile: string,
): Promise<Omit<WrkResult, 'cpuUs'> & { requests: number }> {
  const [cmd, args] = pinned(1, 'wrk', [
    '-t1',
    `-c${CONNS}`,
    `-d${DURATION}`,
    '--latency',
    '-s',
    luaFile,
    url,
  ])
  const { stdout } = await run(cmd, args, { maxBuffer: 1 << 20 })
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)![1])
  const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(stdout)!
  const p99ms = Number(p99[1]) * (p99[2] === 'us' ? 0.001 : p99[2] === 's' ? 1000 : 1)
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0)
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 0)
  return { rps, p99ms, non2xx, requests }
}

function luaScript(headers: Record<string, string>, body: string): string {
  const lines = ['wrk.method = "POST"', `wrk.body = ${JSON.stringify(body)}`]
  for (const [k, v] of Object.entries(headers))
    if (k !== 'host') lines.push(`wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`)
  return lines.join('\n') + '\n'
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

async function timePage(
  port: number,
  creds: Creds,
  body: unknown,
  repeat: number,
): Promise<number> {
  const samples: number[] = []
  for (let i = 0; i < repeat; i++) {
    const t = performance.now()
    await call(port, creds, 'ListConnections', body)
    samples.push(performance.now() - t)
  }
  return median(samples)
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'junction-bench-'))
  const port = 4700 + Math.floor(Math.random() * 200)
  const junction = await startJunction(dataDir, port)
  let baseline: ChildProcess | undefined
  const variants: { name: string; child: ChildProcess; dir: string; url: string; lua: string }[] =
    []
  try {
    const creds = readCreds(dataDir)
    console.log(`seeding ${CONNECTIONS} connections…`)
    const t0 = performance.now()
    let next = 0
    const arns: string[] = []
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < CONNECTIONS) {
          const i = next++
          const out = await call(port, creds, 'CreateConnection', {
            ConnectionName: `bench-${i}`,
            ProviderType: i % 3 ? 'GitHub' : 'Bitbucket',
          })
          arns[i] = out['ConnectionArn'] as string
        }
      }),
    )
    console.log(`seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s`)

    // GetConnection of a connection in the middle, signed once (valid for 15 minutes).
    const target = arns[Math.floor(CONNECTIONS / 2)]!
    const req = await signed(port, creds, 'GetConnection', { ConnectionArn: target })
    const lua = join(dataDir, 'get-connection.lua')
    writeFileSync(lua, luaScript(req.headers, req.body))
    const sample = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      headers: Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== 'host')),
      body: req.body,
    })
    const responseBody = await sample.text()
    if (!sample.ok) throw new Error(`signed GetConnection failed: ${responseBody}`)

    // The baseline is a plain node process like Junction, on the same CPU, answering the same bytes.
    const basePort = port + 1
    baseline = await startBaseline(basePort, responseBody)

    // The same GetConnection signed by an IAM user with a realistic policy: five statements, with
    // conditions, evaluated on every call.
    const user = await userWithRealisticPolicy(port, creds)
    const asUser = await signed(port, user, 'GetConnection', { ConnectionArn: target })
    const userLua = join(dataDir, 'get-connection-user.lua')
    writeFileSync(userLua, luaScript(asUser.headers, asUser.body))

    // Warm up, then interleave ROUNDS runs of each and keep the median of each: drift over the
    // run (heap growth, WAL checkpoints, the machine) then touches all three alike.
    const junctionUrl = `http://127.0.0.1:${port}/`
    const baseUrl = `http://127.0.0.1:${basePort}/`
    await wrk(junctionUrl, lua)
    await wrk(baseUrl, lua)
    await wrk(junctionUrl, userLua)
    // Other Junctions to compare (BENCH_VARIANTS), on the same data, each on its own port.
    for (const [i, spec] of (process.env['BENCH_VARIANTS'] ?? '')
      .split('|')
      .filter(Boolean)
      .entries()) {
      const eq = spec.indexOf('=')
      const words = spec
        .slice(eq + 1)
        .split(' ')
        .filter(Boolean)
      const bin = words[0]?.startsWith('@') ? words.shift()!.slice(1) : BIN
      const vPort = port + 2 + i
      // A copy of the seeded data (SQLite is held exclusively by one process): quiet by now, the
      // database and its WAL copy as one consistent state.
      const vDir = `${dataDir}-variant-${i}`
      cpSync(dataDir, vDir, { recursive: true })
      const child = await startJunction(vDir, vPort, bin, words)
      const vReq = await signed(vPort, creds, 'GetConnection', { ConnectionArn: target })
      const vLua = join(dataDir, `variant-${i}.lua`)
      writeFileSync(vLua, luaScript(vReq.headers, vReq.body))
      const v = {
        name: spec.slice(0, eq),
        child,
        dir: vDir,
        url: `http://127.0.0.1:${vPort}/`,
        lua: vLua,
      }
      variants.push(v)
      await wrk(v.url, v.lua)
    }
    const runs = { root: [] as WrkResult[], base: [] as WrkResult[], user: [] as WrkResult[] }
    const variantRuns = variants.map(() => [] as WrkResult[])
    for (let round = 0; round < ROUNDS; round++) {
      runs.root.push(await measured(junction.pid, junctionUrl, lua))
      runs.base.push(await measured(baseline.pid, baseUrl, lua))
      runs.user.push(await measured(junction.pid, junctionUrl, userLua))
      for (const [i, v] of variants.entries())
        variantRuns[i]!.push(await measured(v.child.pid, v.url, v.lua))
    }
    const j = medianRun(runs.root)
    const b = medianRun(runs.base)
    const u = medianRun(runs.user)
    const medianCpu = (rs: WrkResult[]) => median(rs.map((r) => r.cpuUs))

    // ListConnections: first page vs last page (100 per page).
    let token: string | undefined
    let lastToken: string | undefined
    let pages = 0
    do {
      lastToken = token
      const out = await call(port, creds, 'ListConnections', token ? { NextToken: token } : {})
      token = out['NextToken'] as string | undefined
      pages++
    } while (token)
    const first = await timePage(port, creds, {}, 30)
    const last = await timePage(port, creds, lastToken ? { NextToken: lastToken } : {}, 30)
    const rssKb = Number(
      /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${junction.pid}/status`, 'utf8'))![1],
    )

    const ratio = j.rps / b.rps
    const userRatio = u.rps / b.rps
    const report = {
      connections: CONNECTIONS,
      wrk: {
        threads: 1,
        connections: Number(CONNS),
        duration: DURATION,
        rounds: ROUNDS,
        pinnedCpus: hasTaskset,
      },
      junctionGetConnection: {
        rps: Math.round(j.rps),
        p99ms: j.p99ms,
        non2xx: j.non2xx,
        cpuUsPerRequest: Math.round(medianCpu(runs.root)),
      },
      bareNodeHttp: {
        rps: Math.round(b.rps),
        p99ms: b.p99ms,
        cpuUsPerRequest: Math.round(medianCpu(runs.base)),
      },
      variants: variants.map((v, i) => {
        const r = medianRun(variantRuns[i]!)
        const cpu = medianCpu(variantRuns[i]!)
        return {
          name: v.name,
          rps: Math.round(r.rps),
          p99ms: r.p99ms,
          non2xx: r.non2xx,
          cpuUsPerRequest: Math.round(cpu),
          rpsVsJunction: Math.round((r.rps / j.rps) * 1000) / 1000,
          cpuVsJunction: Math.round((cpu / medianCpu(runs.root)) * 1000) / 1000,
        }
      }),
      ratio: Math.round(ratio * 1000) / 1000,
      target: 0.5,
      withPolicy: {
        rps: Math.round(u.rps),
        p99ms: u.p99ms,
        non2xx: u.non2xx,
        ratio: Math.round(userRatio * 1000) / 1000,
        dropVsRoot: `${Math.round((1 - userRatio / ratio) * 1000) / 10}%`,
        target: 'a drop of at most 10%',
      },
      listConnections: {
        pages,
        firstPageMs: Math.round(first * 100) / 100,
        lastPageMs: Math.round(last * 100) / 100,
      },
      junctionRssMb: Math.round(rssKb / 1024),
    }
    console.log(JSON.stringify(report, null, 2))
    console.log(
      `GetConnection: Junction ${report.junctionGetConnection.rps} req/s (p99 ${j.p99ms} ms) vs bare node:http ${report.bareNodeHttp.rps} req/s (p99 ${b.p99ms} ms): ratio ${report.ratio} (target ≥ 0.5)`,
    )
    console.log(
      `ListConnections (${pages} pages of 100): first page ${report.listConnections.firstPageMs} ms, last page ${report.listConnections.lastPageMs} ms`,
    )
    console.log(
      `GetConnection as an IAM user with a 5-statement policy: ${report.withPolicy.rps} req/s (p99 ${u.p99ms} ms): ratio ${report.withPolicy.ratio}, ${report.withPolicy.dropVsRoot} below the root's`,
    )
    if (j.non2xx > 0) throw new Error(`${j.non2xx} GetConnection answers were not 2xx`)
    if (u.non2xx > 0) throw new Error(`${u.non2xx} GetConnection answers as the user were not 2xx`)
  } finally {
    baseline?.kill('SIGTERM')
    for (const v of variants) {
      v.child.kill('SIGTERM')
      await new Promise((r) => v.child.once('exit', r))
      rmSync(v.dir, { recursive: true, force: true })
    }
    junction.kill('SIGTERM')
    await new Promise((r) => junction.once('exit', r))
    rmSync(dataDir, { recursive: true, force: true })
  }
}

await main()
