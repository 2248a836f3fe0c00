/**
 * Pipelines with a GitHub source, on the sandbox GitHub: Junction configured with the seeded
 * world's GitHub App (its webhook pointed at Junction's `/webhooks/github`), a connection completed
 * with the app's installation on acme, a pipeline role, clients; pushes through the admin API
 * (commits) and over Git with a second app's write token (tags, branch deletion), and the
 * recorded outcome of an event as a barrier.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { CodePipelineClient } from '@aws-sdk/client-codepipeline'
import {
  CreateConnectionCommand,
  GetConnectionCommand,
  type CodeStarConnectionsClient,
} from '@aws-sdk/client-codestar-connections'
import type { IAMClient } from '@aws-sdk/client-iam'
import { RawClient, sdkClient } from './client.js'
import type { Engine } from './engines.js'
import {
  mintToken,
  seedGhWorld,
  startGhSandbox,
  type GhApp,
  type GhSandbox,
  type GhWorld,
} from './github-sandbox.js'
import { iamClient } from './iam.js'
import { pipelineClient, pipelineRole, waitFor } from './pipelines.js'
import { startTestServer, type TestServer } from './server.js'
import type { ServeFlags } from '../../src/config.js'

const run = promisify(execFile)
export const ACCOUNT = '000000000000'

export interface GhPipelineFixture {
  sb: GhSandbox
  world: GhWorld
  server: TestServer
  cp: CodePipelineClient
  sdk: CodeStarConnectionsClient
  iam: IAMClient
  raw: RawClient
  /** The AVAILABLE GitHub connection on the acme installation. */
  arn: string
  role: string
  /** An app with contents: write on acme, for pushes over Git (it receives no events). */
  pusher: GhApp & { installationId: number }
  dir: string
}

export async function startGhPipelineFixture(
  engine: Engine,
  flags: ServeFlags = {},
): Promise<GhPipelineFixture> {
  const sb = await startGhSandbox()
  const world = await seedGhWorld(sb)
  const dir = mkdtempSync(join(tmpdir(), 'gh-pipelines-'))
  const key = join(dir, 'app.pem')
  writeFileSync(key, world.app.privateKey)
  const server = await startTestServer(engine, {
    'github-url': sb.url,
    'github-api-url': sb.url,
    'github-app-id': String(world.app.id),
    'github-app-slug': world.app.slug,
    'github-private-key-file': key,
    'github-client-id': world.app.clientId,
    'github-client-secret': world.app.clientSecret,
    'github-webhook-secret': world.app.webhookSecret!,
    ...flags,
  })
  await sb.admin(`apps/${world.app.slug}`, { webhookUrl: `${server.url}/webhooks/github` }, 'PUT')
  const pusherApp = await sb.admin<GhApp>('apps', {
    name: 'Pusher',
    owner: 'alice',
    webhookUrl: 'http://127.0.0.1:9/none',
    permissions: { contents: 'write', metadata: 'read' },
    events: [],
  })
  const inst = await sb.admin<{ id: number }>('installations', {
    app: pusherApp.slug,
    account: 'acme',
  })
  const cp = pipelineClient(server.url, server.credentials)
  const sdk = sdkClient(server.url, server.credentials)
  const raw = new RawClient(server.url, server.credentials)
  const iam = iamClient(server.url, server.credentials)
  const created = await sdk.send(
    new CreateConnectionCommand({ ProviderType: 'GitHub', ConnectionName: 'gh-pipelines' }),
  )
  const arn = created.ConnectionArn!
  const done = await raw.call({
    target: 'JunctionConnections_20261128.CompleteConnection',
    service: 'codestar-connections',
    body: { ConnectionArn: arn, InstallationId: String(world.installationId) },
  })
  if (done.status !== 200) throw new Error(`CompleteConnection: ${done.text}`)
  const role = await pipelineRole(iam, 'pipeline-role')
  return {
    sb,
    world,
    server,
    cp,
    sdk,
    iam,
    raw,
    arn,
    role,
    pusher: { ...pusherApp, installationId: inst.id },
    dir,
  }
}

export async function stopGhPipelineFixture(f: GhPipelineFixture | undefined): Promise<void> {
  f?.cp.destroy()
  f?.sdk.destroy()
  f?.iam.destroy()
  await f?.server.stop()
  await f?.sb.stop()
  if (f) rmSync(f.dir, { recursive: true, force: true })
}

/** A commit on `branch` of acme/app through the sandbox's admin API (a push: webhooks follow). */
export async function ghCommit(
  f: GhPipelineFixture,
  branch: string,
  files: Record<string, string | null>,
  message = `change on ${branch}`,
  repo = 'acme/app',
): Promise<string> {
  const r = await f.sb.admin<{ sha: string }>(`repositories/${repo}/commits`, {
    branch,
    message,
    author: 'alice',
    files,
  })
  return r.sha
}

/**
 * `git push` to acme/app with the pusher app's installation token (x-access-token), as a user's
 * push arrives at GitHub: `refspecs` such as `main:refs/tags/v1` or `:refs/heads/gone`.
 */
export async function ghGitPush(f: GhPipelineFixture, ...refspecs: string[]): Promise<void> {
  const minted = await mintToken(f.sb, f.pusher, f.pusher.installationId)
  if (minted.status !== 201) throw new Error(`minting: ${JSON.stringify(minted.json)}`)
  const token = String(minted.json['token'])
  const work = mkdtempSync(join(f.dir, 'push-'))
  const url = new URL(`${f.sb.url}/acme/app.git`)
  url.username = 'x-access-token'
  url.password = token
  try {
    await run('git', ['clone', '--quiet', url.toString(), work])
    await run('git', ['-C', work, 'push', '--quiet', 'origin', ...refspecs])
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

export interface EventOutcome {
  pipeline: string
  started?: string
  reason: string
}

/**
 * The recorded outcomes (one per pipeline) of the processed event whose recorded JSON satisfies
 * `which`: the barrier after which "nothing started" may be asserted.
 */
export async function ghOutcomes(
  f: GhPipelineFixture,
  what: string,
  which: (event: Record<string, unknown>) => boolean,
  repo = 'acme/app',
): Promise<EventOutcome[]> {
  return waitFor(
    what,
    async () => {
      const recent = await f.server.store.pipelines.events.recent(ACCOUNT, repo, 50)
      const e = recent.find(
        (r) =>
          r.processedAt !== null &&
          r.result !== null &&
          which(JSON.parse(r.event) as Record<string, unknown>),
      )
      return e ? (JSON.parse(e.result!) as EventOutcome[]) : undefined
    },
    60_000,
  )
}

/** The push event of `ref` (`branch`/`tag` name) moving to `after`, or deleting `ref`. */
export const pushOf =
  (name: string, o: { after?: string; deleted?: boolean }) => (e: Record<string, unknown>) => {
    if (e['kind'] !== 'push') return false
    const changes = (e['changes'] ?? []) as {
      name: string
      after?: string
      deleted: boolean
    }[]
    return changes.some(
      (c) =>
        c.name === name &&
        (o.after === undefined || c.after === o.after) &&
        (o.deleted === undefined || c.deleted === o.deleted),
    )
  }

/** The pull_request event of number `n` with `action` (OPEN/UPDATED/CLOSED). */
export const pullOf =
  (n: number, action: string, merged?: boolean) => (e: Record<string, unknown>) =>
    e['kind'] === 'pull_request' &&
    e['number'] === n &&
    e['action'] === action &&
    (merged === undefined || e['merged'] === merged)

export async function connectionStatus(f: GhPipelineFixture, arn = f.arn): Promise<string> {
  const r = await f.sdk.send(new GetConnectionCommand({ ConnectionArn: arn }))
  return r.Connection!.ConnectionStatus!
}
