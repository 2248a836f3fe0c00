/**
 * `npm run bench:triggers` — the parts of issue 6's trigger benchmark that exist so far:
 *
 * 1. The trigger matcher: 10,000 pipelines watching one repository, each with its own V2 filters
 *    (branches, tags, file paths, pull-request events); BENCH_EVENTS push and pull-request events
 *    (default 2,000) are matched against all of them. Reports events/s (each event against every
 *    pipeline) and matches per event.
 * 2. CODE_ZIP of a BENCH_REPO_MB repository (default 50 MB) served by the sandbox Bitbucket:
 *    Junction's path, as the source action takes it (the adapter's archive: a shallow Git fetch
 *    of the commit over smart HTTP with `x-token-auth`, `git archive` of it streamed to disk) against
 *    `git archive --format=zip` of the same commit in the sandbox's own repository, BENCH_ROUNDS
 *    (default 3) interleaved rounds, medians and the ratio (target ≤ 1.2).
 *
 * 3. Push to execution started, through the sandbox Bitbucket and one Junction node (SQLite):
 *    BENCH_PUSHES commits (default 200) to a repository watched by a pipeline; for each, the time
 *    from the provider sending the webhook to the execution being recorded InProgress. The baseline
 *    in the same run is a second webhook on the same repository answered by a bare node:http
 *    server (the delivery's own cost); reports p50/p99 of both (target p99 < 250 ms).
 * Everything runs on loopback and stops by itself.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import {
  TriggerMatcher,
  type GitConfiguration,
  type TriggerEvent,
} from '../src/pipelines/match-filters.js'
import { downloadTo } from '../src/pipelines/file-io.js'
import { BitbucketProvider } from '../src/providers/bitbucket/bitbucket-provider.js'
import { startBitbucketSandbox } from '../src/sandbox/bitbucket/server.js'
import { createServer } from 'node:http'
import { pino } from 'pino'
import { configFromFlags } from '../src/config.js'
import { startJunction } from '../src/junction.js'

const run = promisify(execFile)
const PIPELINES = 10_000
const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 2_000)
const REPO_MB = Number(process.env['BENCH_REPO_MB'] ?? 50)
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3)
const PUSHES = Number(process.env['BENCH_PUSHES'] ?? 200)
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

function matcherBench() {
  const dirs = ['services/api', 'services/web', 'libs/core', 'docs', 'infra']
  const configs: GitConfiguration[] = Array.from({ length: PIPELINES }, (_, i) => {
    const dir = dirs[i % dirs.length]!
    const kind = i % 4
    if (kind === 0)
      return {
        sourceActionName: 'Source',
        push: [{ branches: { includes: ['main', `release/${i % 50}.*`] } }],
      }
    if (kind === 1)
      return {
        sourceActionName: 'Source',
        push: [
          {
            branches: { includes: ['main'] },
            filePaths: { includes: [`${dir}/**`], excludes: ['**/*.md'] },
          },
        ],
      }
    if (kind === 2)
      return { sourceActionName: 'Source', push: [{ tags: { includes: [`v${i % 10}.*`] } }] }
    return {
      sourceActionName: 'Source',
      pullRequest: [
        {
          events: ['OPEN', 'UPDATED'],
          branches: { includes: ['main'] },
          filePaths: { includes: [`${dir}/**`] },
        },
      ],
    }
  })
  const compileStart = performance.now()
  const matchers = configs.map((c) => new TriggerMatcher(c))
  const compileMs = performance.now() - compileStart
  const events: TriggerEvent[] = Array.from({ length: EVENTS }, (_, i) => {
    const files = [
      `${dirs[i % dirs.length]}/src/f${i}.ts`,
      `${dirs[(i + 2) % dirs.length]}/README.md`,
    ]
    if (i % 3 === 0)
      return {
        kind: 'pull_request',
        action: 'OPEN',
        destinationBranch: 'main',
        changedFiles: files,
      }
    if (i % 7 === 0) return { kind: 'push', ref: { type: 'tag', name: `v${i % 10}.${i}` } }
    return {
      kind: 'push',
      ref: { type: 'branch', name: i % 2 ? 'main' : `feature/${i}` },
      changedFiles: files,
    }
  })
  let matches = 0
  const start = performance.now()
  for (const e of events) for (const m of matchers) if (m.match(e).matched) matches++
  const ms = performance.now() - start
  return {
    pipelines: PIPELINES,
    events: EVENTS,
    compileMs: Math.round(compileMs),
    eventsPerSecond: Math.round((EVENTS / ms) * 1000),
    matchesPerEvent: Math.round(matches / EVENTS),
  }
}

async function codeZipBench() {
  const dir = mkdtempSync(join(tmpdir(), 'junction-bench-zip-'))
  const sb = await startBitbucketSandbox({ port: 0, dataDir: join(dir, 'sandbox') })
  try {
    const post = async (path: string, body: unknown) => {
      const r = await fetch(`${sb.url}/_sandbox/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      return (await r.json()) as Record<string, string>
    }
    await post('users', { username: 'bench', password: 'bench-pw' })
    await post('workspaces', { slug: 'bench', admins: ['bench'] })
    await post('repositories', { workspace: 'bench', slug: 'big' })
    const { token } = await post('access-tokens', { workspace: 'bench' })
    // A working tree of about REPO_MB: half compressible text, half random bytes.
    const work = join(dir, 'work')
    mkdirSync(work)
    const env = {
      ...process.env,
      GIT_AUTHOR_NAME: 'b',
      GIT_AUTHOR_EMAIL: 'b@x',
      GIT_COMMITTER_NAME: 'b',
      GIT_COMMITTER_EMAIL: 'b@x',
    }
    await run('git', ['init', '-q', '-b', 'main', work])
    const perFile = 256 * 1024
    const files = Math.ceil((REPO_MB * 1024 * 1024) / perFile)
    for (let i = 0; i < files; i++) {
      const sub = join(work, `dir${i % 20}`)
      mkdirSync(sub, { recursive: true })
      const data =
        i % 2
          ? randomBytes(perFile)
          : Buffer.from(`line ${i} of a text file that compresses\n`.repeat(perFile / 40))
      writeFileSync(join(sub, `file${i}.${i % 2 ? 'bin' : 'txt'}`), data)
    }
    await run('git', ['-C', work, 'add', '.'], { env })
    await run('git', ['-C', work, 'commit', '-qm', 'big'], { env })
    await run(
      'git',
      [
        '-C',
        work,
        'push',
        '-q',
        `http://x-token-auth:${token}@${sb.url.slice(7)}/bench/big.git`,
        'main',
      ],
      { env, maxBuffer: 1 << 26 },
    )
    const { stdout: head } = await run('git', ['-C', work, 'rev-parse', 'HEAD'])
    const commit = head.trim()
    const provider = new BitbucketProvider({ endpoints: { webUrl: sb.url, apiUrl: sb.apiUrl } })
    const creds = { kind: 'access-token' as const, accessToken: token! }
    const bare = sb.state.repoDir('bench', 'big')
    const gitTimes: number[] = []
    const junctionTimes: number[] = []
    let size = 0
    for (let r = 0; r < ROUNDS; r++) {
      let t = performance.now()
      await run('git', ['--git-dir', bare, 'archive', '--format=zip', commit], {
        encoding: 'buffer',
        maxBuffer: 1 << 30,
      })
      gitTimes.push(performance.now() - t)
      t = performance.now()
      // Junction's path, as the source action takes it: fetched over Git, the archive (its files
      // at the root) streamed to disk, capped.
      const stream = await provider.downloadArchive(creds, 'bench/big', commit, {
        tmpDir: dir,
        topFolder: false,
        maxBytes: 4000 * 1_048_576,
      })
      const out = join(dir, `code-zip-${r}.zip`)
      await downloadTo(stream, out, 4000 * 1_048_576, () => 'too large')
      junctionTimes.push(performance.now() - t)
      size = statSync(out).size
      rmSync(out)
    }
    const g = median(gitTimes)
    const j = median(junctionTimes)
    return {
      repositoryMb: REPO_MB,
      zipMb: Math.round(size / 1024 / 1024),
      gitArchiveMs: Math.round(g),
      junctionCodeZipMs: Math.round(j),
      ratio: Math.round((j / g) * 100) / 100,
      target: 1.2,
    }
  } finally {
    await sb.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

async function pushLatencyBench() {
  const dir = mkdtempSync(join(tmpdir(), 'junction-bench-push-'))
  const sb = await startBitbucketSandbox({ port: 0, dataDir: join(dir, 'sandbox') })
  // The baseline receiver: answers every delivery at once and notes when it arrived.
  const arrivals = new Map<string, number>()
  const bare = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as {
        push: { changes: { new: { target: { hash: string } } }[] }
      }
      arrivals.set(body.push.changes[0]!.new.target.hash, Date.now())
      res.writeHead(200).end()
    })
  })
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r))
  const env = {
    JUNCTION_ROOT_ACCESS_KEY_ID: 'JKIABENCHBENCHBENCH0',
    JUNCTION_ROOT_SECRET_ACCESS_KEY: randomBytes(30).toString('base64url'),
  }
  const junction = await startJunction(
    configFromFlags({
      host: '127.0.0.1',
      port: '0',
      'data-dir': join(dir, 'junction'),
      'bitbucket-url': sb.url,
    }),
    { logger: pino({ level: 'warn' }), env },
  )
  try {
    const admin = async (path: string, body: unknown) => {
      const r = await fetch(`${sb.url}/_sandbox/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      return (await r.json()) as Record<string, string>
    }
    await admin('users', { username: 'bench', password: 'bench-pw' })
    await admin('workspaces', { slug: 'bench', admins: ['bench'] })
    await admin('repositories', { workspace: 'bench', slug: 'app', files: { 'a.txt': 'a\n' } })
    const { token } = await admin('access-tokens', { workspace: 'bench' })
    await fetch(`${sb.apiUrl}/repositories/bench/app/hooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        description: 'baseline',
        url: `http://127.0.0.1:${(bare.address() as { port: number }).port}/`,
        active: true,
        events: ['repo:push'],
      }),
    })
    const { SignatureV4 } = await import('@smithy/signature-v4')
    const { Hash } = await import('@smithy/hash-node')
    const signer = (service: string) =>
      new SignatureV4({
        service,
        region: 'us-east-1',
        credentials: {
          accessKeyId: env.JUNCTION_ROOT_ACCESS_KEY_ID,
          secretAccessKey: env.JUNCTION_ROOT_SECRET_ACCESS_KEY,
        },
        sha256: Hash.bind(null, 'sha256'),
      })
    const u = new URL(junction.url)
    const call = async (service: string, target: string, body: unknown) => {
      const json = JSON.stringify(body)
      const signed = await signer(service).sign({
        method: 'POST',
        protocol: 'http:',
        hostname: u.hostname,
        port: Number(u.port),
        path: '/',
        headers: {
          host: u.host,
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': target,
        },
        body: json,
      })
      const { host: _h, ...headers } = signed.headers
      const r = await fetch(`${junction.url}/`, { method: 'POST', headers, body: json })
      const out = (await r.json()) as Record<string, unknown>
      if (!r.ok) throw new Error(`${target}: ${JSON.stringify(out)}`)
      return out
    }
    const { ConnectionArn: arn } = (await call(
      'codestar-connections',
      'CodeStar_connections_20191201.CreateConnection',
      { ProviderType: 'Bitbucket', ConnectionName: 'bench' },
    )) as { ConnectionArn: string }
    await call('codestar-connections', 'JunctionConnections_20261128.CompleteConnection', {
      ConnectionArn: arn,
      Workspace: 'bench',
      AccessToken: token,
    })
    // The root may pass any role; the role only has to exist and trust CodePipeline.
    const roleArn = 'arn:aws:iam::000000000000:role/bench'
    await junction.store.iam.roles.create(
      {
        id: 'AROABENCHBENCHBENCH0',
        accountId: '000000000000',
        name: 'bench',
        path: '/',
        arn: roleArn,
        assumeRolePolicy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'codepipeline.amazonaws.com' },
              Action: 'sts:AssumeRole',
            },
          ],
        }),
        description: null,
        maxSessionDuration: 3600,
        createdAt: Date.now(),
      },
      100,
    )
    await call('codepipeline', 'CodePipeline_20150709.CreatePipeline', {
      pipeline: {
        name: 'bench',
        roleArn,
        pipelineType: 'V2',
        executionMode: 'PARALLEL',
        stages: [
          {
            name: 'Source',
            actions: [
              {
                name: 'Source',
                actionTypeId: {
                  category: 'Source',
                  owner: 'AWS',
                  provider: 'CodeStarSourceConnection',
                  version: '1',
                },
                configuration: {
                  ConnectionArn: arn,
                  FullRepositoryId: 'bench/app',
                  BranchName: 'main',
                },
                outputArtifacts: [{ name: 'Src' }],
              },
            ],
          },
          {
            name: 'Build',
            actions: [
              {
                name: 'Build',
                actionTypeId: {
                  category: 'Compute',
                  owner: 'AWS',
                  provider: 'Commands',
                  version: '1',
                },
                commands: ['true'],
                inputArtifacts: [{ name: 'Src' }],
              },
            ],
          },
        ],
      },
    })
    for (let i = 0; i < 100 && (await junction.store.webhooks.all()).length === 0; i++)
      await new Promise((r) => setTimeout(r, 50))
    const store = junction.store.pipelines
    const latencies: number[] = []
    const baseline: number[] = []
    for (let i = 0; i < PUSHES; i++) {
      const { commit } = await admin('repositories/bench/app/commits', {
        branch: 'main',
        message: `push ${i}`,
        files: { 'a.txt': `${i}\n` },
      })
      const deliveries = sb.state.deliveries
      let startedAt: number | undefined
      for (let t = 0; t < 400 && startedAt === undefined; t++) {
        const [e] = await store.executions.list('000000000000', 'bench', Number.MAX_SAFE_INTEGER, 1)
        if (e && JSON.parse(e.sourceRevisions)['Source']?.revisionValue === commit)
          startedAt = e.createdAt
        else await new Promise((r) => setTimeout(r, 5))
      }
      // The delivery to Junction's webhook left the provider at `at`.
      const sent = deliveries.filter(
        (d) => !d.url.includes(String((bare.address() as { port: number }).port)),
      )
      const at = Date.parse(sent.at(-1)!.at)
      const baseAt = Date.parse(
        deliveries
          .filter((d) => d.url.includes(String((bare.address() as { port: number }).port)))
          .at(-1)!.at,
      )
      if (startedAt === undefined) throw new Error(`push ${i} started no execution`)
      latencies.push(startedAt - at)
      baseline.push((arrivals.get(commit!) ?? baseAt) - baseAt)
    }
    return {
      pushes: PUSHES,
      junctionP50Ms: pct(latencies, 50),
      junctionP99Ms: pct(latencies, 99),
      junctionMaxMs: Math.max(...latencies),
      bareReceiverP50Ms: pct(baseline, 50),
      bareReceiverP99Ms: pct(baseline, 99),
      targetP99Ms: 250,
    }
  } finally {
    await junction.close()
    await sb.close()
    await new Promise((r) => bare.close(r))
    rmSync(dir, { recursive: true, force: true })
  }
}

const matcher = matcherBench()
const codeZip = await codeZipBench()
const pushToExecution = await pushLatencyBench()
console.log(JSON.stringify({ matcher, codeZip, pushToExecution }, null, 2))
console.log(
  `Trigger matcher: ${matcher.eventsPerSecond} events/s against ${matcher.pipelines} pipelines (${matcher.matchesPerEvent} matches per event)\n` +
    `CODE_ZIP of ${codeZip.repositoryMb} MB: Junction ${codeZip.junctionCodeZipMs} ms vs git archive ${codeZip.gitArchiveMs} ms: ratio ${codeZip.ratio} (target ≤ 1.2)\n` +
    `Push to execution started (${pushToExecution.pushes} pushes): p50 ${pushToExecution.junctionP50Ms} ms, p99 ${pushToExecution.junctionP99Ms} ms (target < 250 ms); a bare receiver of the same delivery: p50 ${pushToExecution.bareReceiverP50Ms} ms, p99 ${pushToExecution.bareReceiverP99Ms} ms`,
)
