/**
 * Pipelines with a GitLab source, on the sandbox GitLab: Junction configured with the seeded
 * world's OAuth application (`--gitlab-url` the sandbox), a `ProviderType GitLab` connection
 * completed without a browser with alice's personal access token on the group `acme` (alice is
 * its Owner), a project in a nested subgroup (`acme/platform/tools/app`) made for the tests, a
 * pipeline role and clients. Pushes go through the sandbox's admin API (commits; one push moving
 * many refs), merge requests too; the recorded outcome of an event is the barrier after which
 * "nothing started" may be asserted (the GitHub helper's `pushOf`/`pullOf` select it).
 */
import type { CodePipelineClient } from '@aws-sdk/client-codepipeline'
import {
  CreateConnectionCommand,
  type CodeStarConnectionsClient,
} from '@aws-sdk/client-codestar-connections'
import type { IAMClient } from '@aws-sdk/client-iam'
import { RawClient, sdkClient } from './client.js'
import type { Engine } from './engines.js'
import { ACCOUNT, type EventOutcome } from './github-pipelines.js'
import { startGlSandbox, type GlSandbox } from './gitlab-sandbox.js'
import { iamClient } from './iam.js'
import { pipelineClient, pipelineRole, waitFor } from './pipelines.js'
import { startTestServer, type TestServer } from './server.js'
import type { ServeFlags } from '../../src/config.js'

export { ACCOUNT, pullOf, pushOf, type EventOutcome } from './github-pipelines.js'

/** The project the tests use: three levels of groups above it, as GitLab allows. */
export const PROJECT = 'acme/platform/tools/app'

export interface GlPipelineFixture {
  sb: GlSandbox
  server: TestServer
  cp: CodePipelineClient
  sdk: CodeStarConnectionsClient
  iam: IAMClient
  raw: RawClient
  /** The AVAILABLE GitLab connection on the group acme. */
  arn: string
  role: string
}

/** A GitLab connection completed with a token on `workspace` (CompleteConnection, no browser). */
export async function glConnection(
  f: Pick<GlPipelineFixture, 'sdk' | 'raw'>,
  name: string,
  token: string,
  workspace = 'acme',
): Promise<string> {
  const created = await f.sdk.send(
    new CreateConnectionCommand({ ProviderType: 'GitLab', ConnectionName: name }),
  )
  const arn = created.ConnectionArn!
  const done = await f.raw.call({
    target: 'JunctionConnections_20261128.CompleteConnection',
    service: 'codestar-connections',
    body: { ConnectionArn: arn, Workspace: workspace, AccessToken: token },
  })
  if (done.status !== 200) throw new Error(`CompleteConnection: ${done.text}`)
  return arn
}

export async function startGlPipelineFixture(
  engine: Engine,
  flags: ServeFlags = {},
): Promise<GlPipelineFixture> {
  const sb = await startGlSandbox()
  const server = await startTestServer(engine, {
    'gitlab-url': sb.url,
    'gitlab-api-url': sb.apiUrl,
    'gitlab-client-id': sb.world.app.clientId,
    'gitlab-client-secret': sb.world.app.secret,
    ...flags,
  })
  await sb.admin('projects', {
    namespace: 'acme/platform/tools',
    path: 'app',
    files: { 'README.md': 'app\n', 'src/main.c': 'int main(void) { return 1; }\n' },
  })
  const cp = pipelineClient(server.url, server.credentials)
  const sdk = sdkClient(server.url, server.credentials)
  const raw = new RawClient(server.url, server.credentials)
  const iam = iamClient(server.url, server.credentials)
  const arn = await glConnection({ sdk, raw }, 'gl-pipelines', sb.token('alice-api'))
  const role = await pipelineRole(iam, 'pipeline-role')
  return { sb, server, cp, sdk, iam, raw, arn, role }
}

export async function stopGlPipelineFixture(f: GlPipelineFixture | undefined): Promise<void> {
  f?.cp.destroy()
  f?.sdk.destroy()
  f?.iam.destroy()
  await f?.server.stop()
  await f?.sb.stop()
}

const enc = (project: string) => encodeURIComponent(project)

/** A commit (or `count` of them) on `branch` through the admin API: a push, hooks follow. */
export async function glCommit(
  f: GlPipelineFixture,
  branch: string,
  files: Record<string, string | null>,
  o: { message?: string; count?: number; project?: string } = {},
): Promise<string> {
  const r = await f.sb.admin<{ sha: string }>(`projects/${enc(o.project ?? PROJECT)}/commits`, {
    branch,
    files,
    message: o.message ?? `change on ${branch}`,
    author: 'alice',
    ...(o.count ? { count: o.count } : {}),
  })
  return r.sha
}

/** One push moving many refs (`refs/heads/x` or `refs/tags/v1` → a revision, null deletes). */
export async function glPush(
  f: GlPipelineFixture,
  refs: Record<string, string | null>,
  project = PROJECT,
): Promise<Record<string, string>> {
  const r = await f.sb.admin<{ refs: Record<string, string> }>(`projects/${enc(project)}/push`, {
    refs,
    user: 'alice',
  })
  return r.refs
}

/** Opens a merge request from `source` into `target` as alice: its iid. */
export async function glOpenMr(
  f: GlPipelineFixture,
  source: string,
  target = 'main',
  title = source,
): Promise<number> {
  const r = await f.sb.admin<{ iid: number }>(`projects/${enc(PROJECT)}/merge_requests`, {
    source,
    target,
    title,
    author: 'alice',
  })
  return r.iid
}

/** `close`, `reopen` or `merge` a merge request as alice. */
export async function glMrAction(
  f: GlPipelineFixture,
  iid: number,
  action: 'close' | 'reopen' | 'merge',
): Promise<void> {
  await f.sb.admin(`projects/${enc(PROJECT)}/merge_requests/${iid}/${action}`, { user: 'alice' })
}

/**
 * The recorded outcomes (one per candidate pipeline) of the processed event whose recorded JSON
 * satisfies `which`.
 */
export async function glOutcomes(
  f: GlPipelineFixture,
  what: string,
  which: (event: Record<string, unknown>) => boolean,
  repo = PROJECT,
): Promise<EventOutcome[]> {
  return waitFor(
    what,
    async () => {
      const recent = await f.server.store.pipelines.events.recent(ACCOUNT, repo, 100)
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

/** Junction's hooks on a project, as GitLab lists them (alice's token). */
export async function glHooks(
  f: GlPipelineFixture,
  project = PROJECT,
): Promise<Record<string, unknown>[]> {
  const r = await f.sb.get(`/projects/${enc(project)}/hooks`, f.sb.token('alice-api'))
  if (r.status !== 200) throw new Error(`hooks: ${r.status}`)
  return (await r.json()) as Record<string, unknown>[]
}
