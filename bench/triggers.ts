/**
 * `npm run bench:triggers` — the parts of issue 6's trigger benchmark that exist so far:
 *
 * 1. The trigger matcher: 10,000 pipelines watching one repository, each with its own V2 filters
 *    (branches, tags, file paths, pull-request events); BENCH_EVENTS push and pull-request events
 *    (default 2,000) are matched against all of them. Reports events/s (each event against every
 *    pipeline) and matches per event.
 * 2. CODE_ZIP of a BENCH_REPO_MB repository (default 50 MB) served by the sandbox Bitbucket:
 *    Junction's path (download the provider archive through the adapter, remove its top folder)
 *    against `git archive --format=zip` of the same commit, BENCH_ROUNDS (default 3) interleaved
 *    rounds, medians and the ratio (target ≤ 1.5).
 *
 * Not yet measurable: push-to-execution-started latency (pipelines and executions come later).
 * Everything runs on loopback and stops by itself.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import {
  TriggerMatcher,
  type GitConfiguration,
  type TriggerEvent,
} from '../src/pipelines/match-filters.js'
import { stripTopFolder } from '../src/pipelines/zip.js'
import { BitbucketProvider } from '../src/providers/bitbucket/bitbucket-provider.js'
import { startBitbucketSandbox } from '../src/sandbox/bitbucket/server.js'

const run = promisify(execFile)
const PIPELINES = 10_000
const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 2_000)
const REPO_MB = Number(process.env['BENCH_REPO_MB'] ?? 50)
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3)
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
      const stream = await provider.downloadArchive(creds, 'bench/big', commit)
      const zip = stripTopFolder(Buffer.from(await new Response(stream).arrayBuffer()))
      junctionTimes.push(performance.now() - t)
      size = zip.length
    }
    const g = median(gitTimes)
    const j = median(junctionTimes)
    return {
      repositoryMb: REPO_MB,
      zipMb: Math.round(size / 1024 / 1024),
      gitArchiveMs: Math.round(g),
      junctionCodeZipMs: Math.round(j),
      ratio: Math.round((j / g) * 100) / 100,
      target: 1.5,
    }
  } finally {
    await sb.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

const matcher = matcherBench()
const codeZip = await codeZipBench()
console.log(
  JSON.stringify(
    { matcher, codeZip, pushToExecution: 'not measurable yet: pipelines come with issue 6' },
    null,
    2,
  ),
)
console.log(
  `Trigger matcher: ${matcher.eventsPerSecond} events/s against ${matcher.pipelines} pipelines (${matcher.matchesPerEvent} matches per event)\n` +
    `CODE_ZIP of ${codeZip.repositoryMb} MB: Junction ${codeZip.junctionCodeZipMs} ms vs git archive ${codeZip.gitArchiveMs} ms: ratio ${codeZip.ratio} (target ≤ 1.5)`,
)
