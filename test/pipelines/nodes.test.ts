/**
 * Three Junction nodes on one PostgreSQL schema behind one URL (a small round-robin proxy that
 * skips dead nodes). Pushes are accepted by whichever node the proxy picks; each delivery starts
 * exactly one execution; a node killed with SIGKILL in the middle of a Commands action has its
 * execution finished by another node once its lease runs out.
 */
import { randomBytes } from 'node:crypto'
import { createServer, request, type Server } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreatePipelineCommand } from '@aws-sdk/client-codepipeline'
import { CreateConnectionCommand } from '@aws-sdk/client-codestar-connections'
import pg from 'pg'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { describeWith, needs } from '../helpers/requirements.js'
import { seedWorld, startSandbox, type Sandbox, type World } from '../helpers/bitbucket.js'
import { RawClient, sdkClient } from '../helpers/client.js'
import { freshPgSchema, pgUrl } from '../helpers/engines.js'
import { iamClient } from '../helpers/iam.js'
import { spawnServe, type ServeProcess } from '../helpers/process.js'
import {
  declaration,
  executions,
  finished,
  pipelineClient,
  pipelineRole,
  waitFor,
} from '../helpers/pipelines.js'

/** Forwards each request to the next live node. */
function roundRobin(targets: () => string[]): Promise<{ server: Server; url: string }> {
  let n = 0
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const live = targets()
      const attempt = (tries: number) => {
        const target = new URL(live[n++ % live.length]!)
        const out = request(
          {
            host: target.hostname,
            port: target.port,
            method: req.method,
            path: req.url,
            headers: req.headers,
          },
          (up) => {
            res.writeHead(up.statusCode ?? 502, up.headers)
            up.pipe(res)
          },
        )
        out.on('error', () => {
          if (tries > 1) attempt(tries - 1)
          else {
            res.writeHead(502)
            res.end()
          }
        })
        out.end(body)
      }
      attempt(live.length)
    })
  })
  return new Promise((r) =>
    server.listen(0, '127.0.0.1', () =>
      r({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` }),
    ),
  )
}

describeWith(needs.postgres)('three nodes, one queue [postgres]', () => {
  let sb: Sandbox
  let world: World
  const schema = pgUrl ? freshPgSchema() : undefined
  const nodes: ServeProcess[] = []
  const dead = new Set<ServeProcess>()
  let proxy: { server: Server; url: string }
  const shared = mkdtempSync(join(tmpdir(), 'junction-nodes-'))
  const env = {
    JUNCTION_MASTER_KEY: randomBytes(32).toString('hex'),
    JUNCTION_ROOT_ACCESS_KEY_ID: 'JKIATHREETHREETHREE0',
    JUNCTION_ROOT_SECRET_ACCESS_KEY: randomBytes(30).toString('base64url'),
  }
  const credentials = {
    accessKeyId: env.JUNCTION_ROOT_ACCESS_KEY_ID,
    secretAccessKey: env.JUNCTION_ROOT_SECRET_ACCESS_KEY,
  }

  beforeAll(async () => {
    sb = await startSandbox()
    world = await seedWorld(sb)
    proxy = await roundRobin(() => nodes.filter((n) => !dead.has(n)).map((n) => n.url))
    for (let i = 0; i < 3; i++) {
      const dataDir = join(shared, `node-${i}`)
      nodes.push(
        await spawnServe(
          [
            '--data-dir',
            dataDir,
            '--database',
            schema!.url,
            '--public-url',
            proxy.url,
            '--bitbucket-url',
            sb.url,
            '--enable-commands',
            // The builds report to the test's server on 127.0.0.1 (the default, private, forbids it).
            '--commands-network',
            'host',
            // Shared storage for artifacts and logs, as several pipeline nodes need.
            '--artifact-dir',
            join(shared, 'artifacts'),
            '--work-lease',
            '2',
          ],
          env,
        ),
      )
    }
  }, 60_000)
  afterAll(async () => {
    for (const n of nodes) n.child.kill('SIGKILL')
    proxy?.server.close()
    await sb?.stop()
    await schema?.drop()
    rmSync(shared, { recursive: true, force: true })
  })

  it('each delivery starts one execution, and a killed node’s execution is finished by another', async () => {
    const raw = new RawClient(proxy.url, credentials)
    const sdk = sdkClient(proxy.url, credentials)
    const iam = iamClient(proxy.url, credentials)
    const cp = pipelineClient(proxy.url, credentials)
    const { ConnectionArn: arn } = await sdk.send(
      new CreateConnectionCommand({ ProviderType: 'Bitbucket', ConnectionName: 'three' }),
    )
    const done = await raw.call({
      target: 'JunctionConnections_20261128.CompleteConnection',
      service: 'codestar-connections',
      body: { ConnectionArn: arn, Workspace: 'acme', AccessToken: world.acmeToken },
    })
    expect(done.status, done.text).toBe(200)
    const role = await pipelineRole(iam, 'pipeline-role')
    // Builds cannot write to the test's folders (each runs as its own uid in its own mount
    // namespace): they report their start and end over HTTP.
    const lines: string[] = []
    const recorder = createServer((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString()))
      req.on('end', () => {
        lines.push(body.trim())
        res.end()
      })
    })
    await new Promise<void>((r) => recorder.listen(0, '127.0.0.1', r))
    const record = (what: string) =>
      `curl -fsS -o /dev/null --data "$CODEPIPELINE_EXECUTION_ID ${what}" http://127.0.0.1:${(recorder.address() as { port: number }).port}/`
    await cp.send(
      new CreatePipelineCommand({
        pipeline: declaration({
          name: 'three',
          roleArn: role,
          connectionArn: arn!,
          executionMode: 'PARALLEL',
          commands: [record('start'), 'sleep 3', record('end')],
        }),
      }),
    )
    await waitFor('one webhook', async () =>
      (await sb.admin<{ hooks: unknown[] }>('hooks')).hooks.length === 1 ? true : undefined,
    )
    const commits: string[] = []
    for (let i = 0; i < 6; i++)
      commits.push(
        (
          await sb.admin<{ commit: string }>('repositories/acme/app/commits', {
            branch: 'main',
            message: `push ${i}`,
            author: 'alice',
            files: { 'n.txt': `${i}\n` },
          })
        ).commit,
      )
    // Kill the node running one of the builds, in the middle of its Commands action.
    const db = new pg.Client({ connectionString: pgUrl })
    await db.connect()
    const schemaName = new URL(schema!.url).searchParams.get('schema')!
    // A Build is recorded InProgress before its isolated build is prepared and started: a build
    // is under way once its commands have written their start line.
    const running = async (owner?: string) => {
      const { rows } = await db.query<{ id: string; lease_owner: string }>(
        `select e.id, e.lease_owner from ${schemaName}.pipeline_executions e
           join ${schemaName}.action_executions a on a.execution_id = e.id
          where a.action_name = 'Build' and a.status = 'InProgress' and e.lease_owner is not null`,
      )
      return rows.filter(
        (r) => lines.includes(`${r.id} start`) && (owner === undefined || r.lease_owner === owner),
      )
    }
    const victim = await waitFor('a build under way', async () => (await running())[0]?.lease_owner)
    // The builds the victim is running now (their commands have written their start line).
    const held = new Set((await running(victim)).map((r) => r.id))
    expect(held.size).toBeGreaterThan(0)
    const pid = Number(victim.split('-').at(-2))
    const node = nodes.find((n) => n.child.pid === pid)!
    expect(node).toBeDefined()
    dead.add(node)
    node.child.kill('SIGKILL')
    await node.exited
    const all = await waitFor(
      'the six pushes to finish',
      async () => {
        const e = (await executions(cp, 'three')).filter(
          (x) => x.trigger?.triggerType === 'Webhook',
        )
        return e.length === 6 && e.every((x) => x.status !== 'InProgress') ? e : undefined
      },
      60_000,
    )
    for (const e of all) {
      const r = await finished(cp, 'three', e.pipelineExecutionId!)
      expect(r.status, r.statusSummary).toBe('Succeeded')
    }
    expect(new Set(all.map((e) => e.sourceRevisions![0]!.revisionId))).toEqual(new Set(commits))
    // Every delivery processed once, by some node, starting exactly one execution.
    const { rows } = await db.query<{ result: string }>(
      `select result from ${schemaName}.webhook_deliveries where trigger_source = 'Webhook'`,
    )
    expect(rows).toHaveLength(6)
    for (const r of rows)
      expect(
        (JSON.parse(r.result) as { started?: string }[]).filter((o) => o.started),
      ).toHaveLength(1)
    // Every build ran; only those the killed node held may have run twice (an action that was in
    // progress re-runs on takeover).
    // The killed node's builds died with it (their watchdog): every build finished exactly once.
    const count = (id: string, what: string) => lines.filter((l) => l === `${id} ${what}`).length
    // Every execution is finished; wait until each build's end line has arrived (a positive
    // barrier, not a pause), then check that none ran more often than it may.
    await waitFor('every build to report its end', async () =>
      all.every((e) => count(e.pipelineExecutionId!, 'end') >= 1) ? true : undefined,
    )
    recorder.close()
    for (const e of all) {
      const id = e.pipelineExecutionId!
      expect(count(id, 'end'), id).toBe(1)
      if (held.has(id)) expect(count(id, 'start'), id).toBe(2)
      else expect(count(id, 'start'), id).toBeLessThanOrEqual(2)
    }
    await db.end()
    for (const c of [raw, sdk, iam, cp]) (c as { destroy?: () => void }).destroy?.()
  }, 120_000)
})
