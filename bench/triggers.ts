/**
 * `npm run bench:triggers` — issue 16 item 4 (and item 5's CODE_ZIP figure):
 *
 * 1. The trigger engine's real path at scale (bench/trigger-scale.ts): a push to the sandbox
 *    Bitbucket → its signed webhook → Junction (one node, SQLite) → executions started, with
 *    100, 1,000 and 10,000 pipelines on one repository of which 1% match, then 10,000 with a push
 *    that matches none. BENCH_PUSHES pushes per case (default 100). Prints p50/p99 of the latency
 *    (delivery sent → last execution started; target p99 < 50 ms at 10,000), the engine's
 *    processing time per event, how many source actions each event touched, and a bare node:http
 *    receiver of the same deliveries as the same-run baseline. Cost per event should follow the
 *    matching (and any-branch) pipelines, not the 10,000.
 * 2. CODE_ZIP of a BENCH_REPO_MB repository (default 50 MB) served by the sandbox Bitbucket:
 *    Junction's path, as the source action takes it (the adapter's archive: a shallow Git fetch
 *    of the commit over smart HTTP with `x-token-auth`, `git archive` of it streamed to disk) against
 *    `git archive --format=zip` of the same commit in the sandbox's own repository, BENCH_ROUNDS
 *    (default 3) interleaved rounds, medians and the ratio (target ≤ 1.2).
 *
 * Everything runs on loopback and stops by itself (BENCH_SKIP_ZIP=1 leaves out part 2).
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { downloadTo } from '../src/pipelines/file-io.js'
import { BitbucketProvider } from '../src/providers/bitbucket/bitbucket-provider.js'
import { startBitbucketSandbox } from '../src/sandbox/bitbucket/server.js'
import { triggerScaleBench } from './trigger-scale.js'

const run = promisify(execFile)
const REPO_MB = Number(process.env['BENCH_REPO_MB'] ?? 50)
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3)
const PUSHES = Number(process.env['BENCH_PUSHES'] ?? 100)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

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

const scenarios = [
  { pipelines: 100, branch: 'main' },
  { pipelines: 1_000, branch: 'main' },
  { pipelines: 10_000, branch: 'main' },
  { pipelines: 10_000, branch: 'quiet' },
]
console.log(`Trigger engine at scale (${PUSHES} pushes per case):`)
const scale = await triggerScaleBench(scenarios, PUSHES, (l) => console.log(l))
const codeZip = process.env['BENCH_SKIP_ZIP'] ? undefined : await codeZipBench()
console.log(JSON.stringify({ triggers: scale, codeZip }, null, 2))
for (const r of scale)
  console.log(
    `${String(r.pipelines).padStart(6)} pipelines, push to ${r.branch.padEnd(5)}: ${String(r.matching).padStart(3)} started, ${String(r.touchedPerEvent).padStart(5)} touched; ` +
      `delivery → started p50 ${r.latencyP50Ms} ms, p99 ${r.latencyP99Ms} ms (target < 50); engine p50 ${r.engineP50Ms} ms, p99 ${r.engineP99Ms} ms, CPU ${r.engineCpuMeanMs} ms/event; ` +
      `bare receiver p50 ${r.bareReceiverP50Ms} ms, p99 ${r.bareReceiverP99Ms} ms`,
  )
if (codeZip)
  console.log(
    `CODE_ZIP of ${codeZip.repositoryMb} MB: Junction ${codeZip.junctionCodeZipMs} ms vs git archive ${codeZip.gitArchiveMs} ms: ratio ${codeZip.ratio} (target ≤ 1.2)`,
  )
