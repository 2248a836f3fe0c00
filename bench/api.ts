/**
 * `npm run bench:api` — GetConnection throughput against a bare node:http baseline, in one run.
 *
 * 1. Starts Junction (the built bin, SQLite, default logging to /dev/null) and creates
 *    BENCH_CONNECTIONS connections (default 10,000) through the API.
 * 2. Drives a validly signed GetConnection with wrk (a separate process) and records requests/s and
 *    p99 latency.
 * 3. Starts a bare node:http server that answers the same bytes, drives it the same way.
 * 4. Prints both, the ratio (target ≥ 0.5), and ListConnections page latency at the first and the
 *    last page (keyset pagination keeps it flat), plus Junction's RSS.
 *
 * Everything runs on loopback and stops by itself.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { SignatureV4 } from '@smithy/signature-v4'
import { Hash } from '@smithy/hash-node'

const run = promisify(execFile)
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 10_000)
const DURATION = process.env['BENCH_DURATION'] ?? '10s'
const CONNS = process.env['BENCH_WRK_CONNECTIONS'] ?? '32'
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
  for (let i = 0; i < 200; i++) {
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

async function startJunction(dataDir: string, port: number): Promise<ChildProcess> {
  // BENCH_NODE_ARGS passes flags to Junction's node (e.g. --cpu-prof) for profiling.
  const nodeArgs = process.env['BENCH_NODE_ARGS']?.split(' ').filter(Boolean) ?? []
  const flags = ['serve', '--data-dir', dataDir, '--port', String(port)]
  flags.push('--connection-quota', String(CONNECTIONS + 10))
  const [cmd, args] = pinned(0, process.execPath, [...nodeArgs, BIN, ...flags])
  // Junction logs every request as usual; the lines go to /dev/null.
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] })
  await waitForPort(port, '/health')
  return child
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

async function wrk(
  url: string,
  luaFile: string,
): Promise<{ rps: number; p99ms: number; non2xx: number }> {
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
  return { rps, p99ms, non2xx }
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

    await wrk(`http://127.0.0.1:${port}/`, lua) // warm-up run, discarded
    const j = await wrk(`http://127.0.0.1:${port}/`, lua)

    // The baseline is a plain node process like Junction, on the same CPU, answering the same bytes.
    const basePort = port + 1
    baseline = await startBaseline(basePort, responseBody)
    await wrk(`http://127.0.0.1:${basePort}/`, lua)
    const b = await wrk(`http://127.0.0.1:${basePort}/`, lua)

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
    const report = {
      connections: CONNECTIONS,
      wrk: { threads: 1, connections: Number(CONNS), duration: DURATION, pinnedCpus: hasTaskset },
      junctionGetConnection: { rps: Math.round(j.rps), p99ms: j.p99ms, non2xx: j.non2xx },
      bareNodeHttp: { rps: Math.round(b.rps), p99ms: b.p99ms },
      ratio: Math.round(ratio * 1000) / 1000,
      target: 0.5,
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
    if (j.non2xx > 0) throw new Error(`${j.non2xx} GetConnection answers were not 2xx`)
  } finally {
    baseline?.kill('SIGTERM')
    junction.kill('SIGTERM')
    await new Promise((r) => junction.once('exit', r))
    rmSync(dataDir, { recursive: true, force: true })
  }
}

await main()
