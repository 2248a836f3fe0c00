/**
 * Polling repositories whose webhook cannot be registered, within Bitbucket's hourly request
 * limit (issue 12 item 9), against the sandbox Bitbucket and its rate limiter: one filtered branch
 * listing per repository per poll whatever the number of watched branches, polls spread over the
 * interval, a 429's Retry-After kept to for that credential only, a credential at its limit paused
 * (not hammered) while other installations keep polling, and a new head still starting the
 * pipeline. Webhooks fail for real: the connections' tokens lack the `webhook` scope.
 */
import { CreatePipelineCommand, type CodePipelineClient } from '@aws-sdk/client-codepipeline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  completeWithToken,
  newConnection,
  startConnectFixture,
  stopConnectFixture,
  type ConnectFixture,
} from '../helpers/connect.js'
import {
  declaration,
  executions,
  finished,
  pipelineClient,
  pipelineRole,
  waitFor,
} from '../helpers/pipelines.js'

const ACCOUNT = '000000000000'
/** Seconds: each repository at most this often; the budget (per hour) lets the interval rule. */
const INTERVAL_S = 2
const BUDGET = 36_000

interface Seen {
  at: number
  method: string
  path: string
  status: number
}

describe('polling within Bitbucket rate limits', () => {
  let f: ConnectFixture
  let cp: CodePipelineClient
  let acmeArn: string
  let rivalArn: string
  const watched: [string, string, string][] = []

  const recent = async () =>
    (await f.sb.admin<{ recent: Seen[] }>('rate-limits')).recent.map((r) => ({
      ...r,
      path: decodeURIComponent(r.path),
    }))
  /** The poller's requests (its branch listings ask for `fields`). */
  const polls = (seen: Seen[], workspace?: string) =>
    seen.filter(
      (r) =>
        r.path.includes('/refs/branches?') &&
        r.path.includes('fields=') &&
        (!workspace || r.path.startsWith(`/2.0/repositories/${workspace}/`)),
    )
  const resetLimiter = () => f.sb.admin('rate-limits', undefined, 'DELETE')

  beforeAll(async () => {
    f = await startConnectFixture('sqlite', {
      'poll-interval': String(INTERVAL_S),
      'poll-budget': String(BUDGET),
    })
    cp = pipelineClient(f.server.url, f.server.credentials)
    const role = await pipelineRole(f.iam, 'pipeline-role')
    const noHooks = ['account', 'repository', 'pullrequest']
    for (const slug of ['poll-a', 'poll-b', 'poll-c'])
      await f.sb.admin('repositories', { workspace: 'acme', slug, files: { 'f.txt': `${slug}\n` } })
    await f.sb.admin('repositories/acme/poll-a/commits', {
      branch: 'dev',
      message: 'dev branch',
      files: { 'dev.txt': 'dev\n' },
    })
    await f.sb.admin('repositories', {
      workspace: 'rival',
      slug: 'poll-r',
      files: { 'r.txt': 'r\n' },
    })
    const acme = await f.sb.admin<{ token: string }>('access-tokens', {
      workspace: 'acme',
      scopes: noHooks,
    })
    const rival = await f.sb.admin<{ token: string }>('access-tokens', {
      workspace: 'rival',
      scopes: noHooks,
    })
    acmeArn = await newConnection(f)
    expect((await completeWithToken(f, acmeArn, acme.token)).status).toBe(200)
    rivalArn = await newConnection(f)
    expect((await completeWithToken(f, rivalArn, rival.token, 'rival')).status).toBe(200)
    const pipelines: [string, string, string, string][] = [
      ['pa-main', acmeArn, 'acme/poll-a', 'main'],
      ['pa-dev', acmeArn, 'acme/poll-a', 'dev'],
      ['pb', acmeArn, 'acme/poll-b', 'main'],
      ['pc', acmeArn, 'acme/poll-c', 'main'],
      ['pr', rivalArn, 'rival/poll-r', 'main'],
    ]
    for (const [name, connectionArn, repository, branch] of pipelines) {
      await cp.send(
        new CreatePipelineCommand({
          pipeline: declaration({ name, roleArn: role, connectionArn, repository, branch }),
        }),
      )
      watched.push([connectionArn, repository, branch])
    }
    // The first executions (CreatePipeline starts one) finish; every watched branch is polled once.
    for (const [name] of pipelines) {
      const first = await waitFor(
        `${name}'s first execution`,
        async () => (await executions(cp, name))[0],
      )
      await finished(cp, name, first.pipelineExecutionId!)
    }
    for (const [arn, repository, branch] of watched)
      await waitFor(`a poll of ${repository} ${branch}`, async () =>
        (await f.server.store.pipelines.polls.get(ACCOUNT, arn, repository, branch))
          ? true
          : undefined,
      )
    expect((await f.sb.admin<{ hooks: unknown[] }>('hooks')).hooks).toEqual([])
  }, 120_000)
  afterAll(async () => {
    cp?.destroy()
    await stopConnectFixture(f)
  })

  it('asks once per repository per poll, spread over the interval', async () => {
    await resetLimiter()
    const seen = await waitFor(
      'nine polls of acme',
      async () => {
        const s = polls(await recent(), 'acme')
        return s.length >= 9 ? s : undefined
      },
      30_000,
    )
    // One listing for both of poll-a's watched branches.
    const a = seen.filter((r) => r.path.startsWith('/2.0/repositories/acme/poll-a/'))
    expect(a.length).toBeGreaterThan(0)
    for (const r of a)
      expect(r.path).toMatch(/name = "main" OR name = "dev"|name = "dev" OR name = "main"/)
    // Round robin: each repository as often as the others (within one), not once per branch.
    const per = ['poll-a', 'poll-b', 'poll-c'].map(
      (slug) => seen.filter((r) => r.path.startsWith(`/2.0/repositories/acme/${slug}/`)).length,
    )
    expect(Math.max(...per) - Math.min(...per)).toBeLessThanOrEqual(1)
    // Spread: about interval / repositories apart (±10% jitter), never a burst.
    const spacing = (INTERVAL_S * 1000) / 3
    const times = seen.map((r) => r.at).sort((x, y) => x - y)
    const gaps = times.slice(1).map((t, i) => t - times[i]!)
    expect(Math.min(...gaps)).toBeGreaterThan(spacing * 0.5)
    // A polled repository does not retry its webhook at every reconciliation.
    expect((await recent()).filter((r) => r.path.includes('/hooks'))).toEqual([])
  })

  it('starts the pipeline of the branch whose head moved, and only that one', async () => {
    const before = (await executions(cp, 'pa-main')).length
    const head = await f.sb.admin<{ commit: string }>('repositories/acme/poll-a/commits', {
      branch: 'dev',
      message: 'polled change',
      files: { 'dev.txt': 'dev v2\n' },
    })
    const run = await waitFor(
      'the polled execution of pa-dev',
      async () =>
        (await executions(cp, 'pa-dev')).find(
          (e) => e.trigger?.triggerType === 'PollForSourceChanges',
        ),
      20_000,
    )
    const done = await finished(cp, 'pa-dev', run.pipelineExecutionId!)
    expect(done.artifactRevisions![0]!.revisionId).toBe(head.commit)
    expect((await executions(cp, 'pa-main')).length).toBe(before)
  })

  it('keeps to Retry-After for the credential that got the 429, and only that one', async () => {
    await resetLimiter()
    await f.sb.admin('failures', { count: 1, status: 429, retryAfter: 3 })
    const refused = await waitFor('the 429', async () =>
      (await recent()).find((r) => r.status === 429),
    )
    expect(polls([refused])).toHaveLength(1)
    const workspace = refused.path.split('/')[3]!
    const other = workspace === 'acme' ? 'rival' : 'acme'
    const next = await waitFor(
      `the next request for ${workspace}`,
      async () =>
        (await recent()).find(
          (r) => r.at > refused.at && r.path.startsWith(`/2.0/repositories/${workspace}/`),
        ),
      15_000,
    )
    expect(next.at - refused.at).toBeGreaterThanOrEqual(3000)
    // The other installation went on polling meanwhile.
    const meanwhile = polls(await recent(), other).filter(
      (r) => r.at > refused.at && r.at < refused.at + 3000,
    )
    expect(meanwhile.length).toBeGreaterThan(0)
  })

  it('slows down to the limit Bitbucket announces for an access token', async () => {
    await resetLimiter()
    // 50 an hour announced (X-RateLimit-Limit): the budget becomes 36,000 × 50 / 1,000 = 1,800
    // an hour, one poll every 2 s instead of every 667 ms.
    await f.sb.admin('rate-limits', { repositories: 50 }, 'PUT')
    try {
      const seen = await waitFor(
        'five polls of acme',
        async () => {
          const s = polls(await recent(), 'acme')
          return s.length >= 5 ? s : undefined
        },
        30_000,
      )
      expect(seen.every((r) => r.status === 200)).toBe(true)
      // From the second poll on (the first answer announced the limit).
      const times = seen.slice(1).map((r) => r.at)
      const gaps = times.slice(1).map((t, i) => t - times[i]!)
      expect(Math.min(...gaps)).toBeGreaterThan(1500)
    } finally {
      await f.sb.admin('rate-limits', { repositories: 1000 }, 'PUT')
      await resetLimiter()
    }
  }, 45_000)

  it('pauses a credential after a 429 without Retry-After, and keeps polling the others', async () => {
    await resetLimiter()
    // Bitbucket's own 429 carries no Retry-After: the poller backs off (a minute at first).
    await f.sb.admin('failures', { count: 1, status: 429 })
    const refused = await waitFor('the 429', async () =>
      (await recent()).find((r) => r.status === 429),
    )
    const workspace = refused.path.split('/')[3]!
    const other = workspace === 'acme' ? 'rival' : 'acme'
    // The other installation polls twice more (positive barrier); the refused one not once.
    await waitFor(
      `${other} polling on`,
      async () =>
        polls(await recent(), other).filter((r) => r.at > refused.at && r.status === 200).length >=
        2
          ? true
          : undefined,
      15_000,
    )
    const mine = (await recent()).filter((r) =>
      r.path.startsWith(`/2.0/repositories/${workspace}/`),
    )
    expect(mine.filter((r) => r.at > refused.at)).toEqual([])
  })
})
