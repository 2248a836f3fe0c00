/**
 * The trigger engine's real path at scale (issue 16 item 4): one Junction node on SQLite, the
 * sandbox Bitbucket, one repository watched by N pipelines of which 1% match a push to `main`.
 * Each push is a real commit whose webhook the sandbox signs and delivers; Junction verifies and
 * records it, the engine picks the pipelines and starts executions. Per push it measures:
 *
 * - latency: the provider sending the delivery → the last execution it started recorded (for a
 *   push that matches nothing: → the event processed), the figure DESIGN's target is about;
 * - processing: the event recorded → processed (queue wait included), and the engine's own time
 *   and process CPU time for it (its onEventProcessed hook);
 * - touched: the pipelines' source actions the engine considered (the event log's outcomes).
 *
 * A bare node:http receiver subscribed to the same repository is the same-run baseline (the
 * delivery's own cost). Pipelines are written straight to the store (a CreatePipeline call each
 * would start 10,000 creation runs); their role may not use the connection, so the executions a
 * push starts fail at once in their source action and the next push waits until they are done.
 * Each case begins with one unmeasured push (it fills the node's cache of compiled pipelines).
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { configFromFlags } from '../src/config.js'
import { startJunction } from '../src/junction.js'
import { startBitbucketSandbox } from '../src/sandbox/bitbucket/server.js'
import type { PipelineDeclaration } from '../src/generated/codepipeline.js'
import type { PipelineSourceRecord } from '../src/store/pipeline-store.js'
import { watchedSources } from '../src/pipelines/watches.js'

const ACCOUNT = '000000000000'
const REPO = 'bench/app'

export const pct = (xs: number[], p: number): number =>
  xs.length === 0
    ? NaN
    : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const round = (x: number) => Math.round(x * 10) / 10

/** Pipeline i of a bench repository: 1% match a push to main, the rest a realistic mix. */
export function benchDeclaration(i: number, connectionArn: string, roleArn: string) {
  let branch = `feature-${i}`
  let trigger: Record<string, unknown> | undefined
  if (i % 100 === 0) {
    // Matching: half by BranchName, half by a trigger with a glob (any branch).
    branch = 'main'
    if (i % 200 === 100) trigger = { push: [{ branches: { includes: ['main', 'hotfix/*'] } }] }
  } else if (i % 100 === 50)
    // Any branch, matching none of the pushes: touched by every push.
    trigger = { push: [{ branches: { includes: ['release/**'] } }] }
  else if (i % 20 < 12) {
    // By BranchName: a branch of its own.
  } else if (i % 20 < 18)
    trigger = {
      push: [{ branches: { includes: [`team-${i}`], excludes: [`team-${i}-wip`] } }],
    }
  else if (i % 20 === 18) trigger = { push: [{ tags: { includes: [`v${i}.*`] } }] }
  else trigger = { pullRequest: [{ events: ['OPEN'], branches: { includes: ['main'] } }] }
  const decl = {
    name: `p${String(i).padStart(5, '0')}`,
    roleArn,
    artifactStore: { type: 'S3', location: 'junction-artifacts' },
    pipelineType: 'V2',
    executionMode: 'PARALLEL',
    version: 1,
    ...(trigger
      ? {
          triggers: [
            {
              providerType: 'CodeStarSourceConnection',
              gitConfiguration: { sourceActionName: 'Source', ...trigger },
            },
          ],
        }
      : {}),
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
              ConnectionArn: connectionArn,
              FullRepositoryId: REPO,
              BranchName: branch,
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
            actionTypeId: { category: 'Compute', owner: 'AWS', provider: 'Commands', version: '1' },
            commands: ['true'],
            inputArtifacts: [{ name: 'Src' }],
          },
        ],
      },
    ],
  } as unknown as PipelineDeclaration
  const sources: PipelineSourceRecord[] = [
    {
      accountId: ACCOUNT,
      pipelineName: decl.name,
      actionName: 'Source',
      connectionArn,
      repository: REPO,
      branch,
    },
  ]
  return { decl, sources: watchedSources(decl, sources) }
}

export interface ScaleFigures {
  pipelines: number
  branch: string
  matching: number
  pushes: number
  touchedPerEvent: number
  latencyP50Ms: number
  latencyP99Ms: number
  processingP50Ms: number
  processingP99Ms: number
  /** The engine's own time for the event (choosing and starting), from its hook. */
  engineP50Ms: number
  engineP99Ms: number
  /** Process CPU time while the engine processed the event (mean). */
  engineCpuMeanMs: number
  bareReceiverP50Ms: number
  bareReceiverP99Ms: number
}

/** Runs the scenarios in order on one node (pipelines are added as the counts grow). */
export async function triggerScaleBench(
  scenarios: { pipelines: number; branch: string }[],
  pushes: number,
  log: (line: string) => void,
): Promise<ScaleFigures[]> {
  const dir = mkdtempSync(join(tmpdir(), 'junction-bench-scale-'))
  const sb = await startBitbucketSandbox({ port: 0, dataDir: join(dir, 'sandbox') })
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
  const barePort = String((bare.address() as { port: number }).port)
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
        headers: { 'content-type': 'application/json', connection: 'close' },
        body: JSON.stringify(body),
      })
      return (await r.json()) as Record<string, string>
    }
    await admin('users', { username: 'bench', password: 'bench-pw' })
    await admin('workspaces', { slug: 'bench', admins: ['bench'] })
    await admin('repositories', { workspace: 'bench', slug: 'app', files: { 'a.txt': 'a\n' } })
    const { token } = await admin('access-tokens', { workspace: 'bench' })
    await fetch(`${sb.apiUrl}/repositories/${REPO}/hooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        description: 'baseline',
        url: `http://127.0.0.1:${barePort}/`,
        active: true,
        events: ['repo:push'],
      }),
    })
    const call = await signedCaller(junction.url, env)
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
    // A role CodePipeline may assume with no permission: each execution fails in its source.
    const roleArn = `arn:aws:iam::${ACCOUNT}:role/bench`
    await junction.store.iam.roles.create(
      {
        id: 'AROABENCHBENCHBENCH0',
        accountId: ACCOUNT,
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
    const store = junction.store.pipelines
    const measured = new Map<number, { ms: number; cpuMs: number }>()
    junction.pipelines.onEventProcessed = (e) => measured.set(e.seq, e)
    let made = 0
    const grow = async (n: number) => {
      const now = Date.now()
      for (; made < n; made++) {
        const { decl, sources } = benchDeclaration(made, arn, roleArn)
        await store.create(
          {
            accountId: ACCOUNT,
            name: decl.name,
            arn: `arn:aws:codepipeline:us-east-1:${ACCOUNT}:${decl.name}`,
            version: 1,
            declaration: JSON.stringify(decl),
            tags: [],
            createdAt: now,
            updatedAt: now,
          },
          sources,
        )
      }
      // The first pipeline has the webhook registered (the others share it).
      if (n === 1) junction.pipelines.pipelinesChanged()
    }
    await grow(1)
    for (let i = 0; i < 200 && (await junction.store.webhooks.all()).length === 0; i++)
      await sleep(50)
    if ((await junction.store.webhooks.all()).length === 0) throw new Error('no webhook')

    const results: ScaleFigures[] = []
    for (const sc of scenarios) {
      const t = performance.now()
      await grow(sc.pipelines)
      log(`  ${sc.pipelines} pipelines stored (${Math.round(performance.now() - t)} ms)`)
      await sleep(500)
      const latencies: number[] = []
      const processing: number[] = []
      const baseline: number[] = []
      const engineMs: number[] = []
      const engineCpuMs: number[] = []
      let touched = 0
      let matching = 0
      // One push first (not measured): it fills this node's cache of compiled pipelines.
      for (let i = -1; i < pushes; i++) {
        const { commit } = await admin(`repositories/${REPO}/commits`, {
          branch: sc.branch,
          message: `push ${i}`,
          files: { 'a.txt': `${sc.pipelines} ${i}\n` },
        })
        let event: Awaited<ReturnType<typeof store.events.recent>>[number] | undefined
        for (let w = 0; w < 6000 && !event; w++) {
          event = (await store.events.recent(ACCOUNT, REPO, 3)).find(
            (e) => e.processedAt !== null && e.event.includes(commit!),
          )
          // Not too often: the bench shares the node's process (and its CPU figure).
          if (!event) await sleep(20)
        }
        if (!event) throw new Error(`push ${i} was not processed`)
        const outcomes = JSON.parse(event.result ?? '[]') as { started?: string }[]
        const started = outcomes.flatMap((o) => (o.started ? [o.started] : []))
        const sent = sb.state.deliveries.filter((d) => !d.url.includes(barePort)).at(-1)!
        const baseSent = sb.state.deliveries.filter((d) => d.url.includes(barePort)).at(-1)!
        const at = Date.parse(sent.at)
        let last = event.processedAt!
        if (started.length > 0) {
          last = 0
          for (const id of started)
            last = Math.max(last, (await store.executions.get(ACCOUNT, id))!.createdAt)
        }
        const stats = measured.get(event.seq)
        if (i >= 0) {
          latencies.push(last - at)
          processing.push(event.processedAt! - event.receivedAt)
          baseline.push(
            (arrivals.get(commit!) ?? Date.parse(baseSent.at)) - Date.parse(baseSent.at),
          )
          if (stats) {
            engineMs.push(stats.ms)
            engineCpuMs.push(stats.cpuMs)
          }
        }
        touched = outcomes.length
        matching = started.length
        // The started executions run (and fail at once) before the next push.
        for (const id of started)
          for (let w = 0; w < 2000; w++) {
            const e = await store.executions.get(ACCOUNT, id)
            if (!e || (e.status !== 'InProgress' && e.status !== 'Stopping')) break
            await sleep(20)
          }
      }
      const fig: ScaleFigures = {
        pipelines: sc.pipelines,
        branch: sc.branch,
        matching,
        pushes,
        touchedPerEvent: touched,
        latencyP50Ms: pct(latencies, 50),
        latencyP99Ms: pct(latencies, 99),
        processingP50Ms: pct(processing, 50),
        processingP99Ms: pct(processing, 99),
        engineP50Ms: round(pct(engineMs, 50)),
        engineP99Ms: round(pct(engineMs, 99)),
        engineCpuMeanMs: round(engineCpuMs.reduce((a, b) => a + b, 0) / engineCpuMs.length),
        bareReceiverP50Ms: pct(baseline, 50),
        bareReceiverP99Ms: pct(baseline, 99),
      }
      log(`  ${JSON.stringify(fig)}`)
      results.push(fig)
    }
    return results
  } finally {
    await junction.close()
    await sb.close()
    await new Promise((r) => bare.close(r))
    rmSync(dir, { recursive: true, force: true })
  }
}

/** A SigV4-signing caller of Junction's API as the root. */
async function signedCaller(
  url: string,
  env: { JUNCTION_ROOT_ACCESS_KEY_ID: string; JUNCTION_ROOT_SECRET_ACCESS_KEY: string },
) {
  const { SignatureV4 } = await import('@smithy/signature-v4')
  const { Hash } = await import('@smithy/hash-node')
  const u = new URL(url)
  return async (service: string, target: string, body: unknown) => {
    const json = JSON.stringify(body)
    const signed = await new SignatureV4({
      service,
      region: 'us-east-1',
      credentials: {
        accessKeyId: env.JUNCTION_ROOT_ACCESS_KEY_ID,
        secretAccessKey: env.JUNCTION_ROOT_SECRET_ACCESS_KEY,
      },
      sha256: Hash.bind(null, 'sha256'),
    }).sign({
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
    const r = await fetch(`${url}/`, { method: 'POST', headers, body: json })
    const out = (await r.json()) as Record<string, unknown>
    if (!r.ok) throw new Error(`${target}: ${JSON.stringify(out)}`)
    return out
  }
}
