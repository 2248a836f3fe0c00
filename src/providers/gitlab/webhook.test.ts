/**
 * GitLab webhook deliveries, parsed from GitLab's own documented payloads
 * (shared/spec/gitlab/webhook-examples, read in place), sent with the headers GitLab sends.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { WebhookRejected } from '../errors.js'
import type { IgnoredEvent, PullRequestEvent, PushEvent } from '../provider.js'
import { parseGitLabWebhook } from './webhook.js'

const EXAMPLES = join(
  import.meta.dirname,
  ...['..', '..', '..', '..', 'shared', 'spec', 'gitlab', 'webhook-examples'],
)
type Json = Record<string, unknown>
const example = (name: string) =>
  JSON.parse(readFileSync(join(EXAMPLES, name), 'utf8')) as Json & {
    object_attributes: Json
    commits: Json[]
  }

const SECRET = 'a webhook secret'
function delivery(event: string, body: unknown, headers: Record<string, string> = {}) {
  return {
    headers: {
      'x-gitlab-event': event,
      'x-gitlab-token': SECRET,
      'x-gitlab-event-uuid': '13792a34-cac6-4fda-95a8-c58e00a3954e',
      'content-type': 'application/json',
      ...headers,
    },
    body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  }
}
const parse = (event: string, body: unknown, headers?: Record<string, string>) =>
  parseGitLabWebhook(delivery(event, body, headers), SECRET)

describe('X-Gitlab-Token', () => {
  const push = example('push.json')
  it('accepts the secret, and refuses a missing, empty or different one', () => {
    expect(parse('Push Hook', push).kind).toBe('push')
    const { 'x-gitlab-token': _, ...none } = delivery('Push Hook', push).headers
    for (const headers of [
      none,
      { ...none, 'x-gitlab-token': '' },
      { ...none, 'x-gitlab-token': 'another secret' },
      { ...none, 'x-gitlab-token': `${SECRET} ` },
      { ...none, 'x-gitlab-token': SECRET.slice(0, -1) },
    ])
      expect(() =>
        parseGitLabWebhook({ headers, body: Buffer.from(JSON.stringify(push)) }, SECRET),
      ).toThrow(WebhookRejected)
  })

  it('refuses a body that is not a JSON object, and one past the size limit', () => {
    expect(() => parse('Push Hook', 'not json')).toThrow(WebhookRejected)
    expect(() => parse('Push Hook', '[1]')).toThrow(WebhookRejected)
    expect(() => parse('Push Hook', ' '.repeat(8 * 1024 * 1024 + 1))).toThrow(/exceeds/)
  })
})

describe('delivery id', () => {
  const push = example('push.json')
  it('is Idempotency-Key, else X-Gitlab-Event-UUID, else a hash of the body', () => {
    expect(parse('Push Hook', push, { 'idempotency-key': 'f5e5f430' }).deliveryId).toBe('f5e5f430')
    expect(parse('Push Hook', push).deliveryId).toBe('13792a34-cac6-4fda-95a8-c58e00a3954e')
    const hashed = parse('Push Hook', push, { 'x-gitlab-event-uuid': '' }).deliveryId
    expect(hashed).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(parse('Push Hook', push, { 'x-gitlab-event-uuid': '' }).deliveryId).toBe(hashed)
  })
})

describe('Push Hook', () => {
  it("reads GitLab's example: the branch, before/after, commits newest first", () => {
    const e = parse('Push Hook', example('push.json')) as PushEvent
    expect(e.repository).toEqual({ fullName: 'mike/diaspora', id: '15' })
    expect(e.changes).toEqual([
      {
        kind: 'branch',
        name: 'master',
        before: '95790bf891e76fee5e1747ab589903a6a1f80f22',
        after: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
        created: false,
        deleted: false,
        forced: false,
        commits: [
          { id: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7', message: 'fixed readme' },
          {
            id: 'b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327',
            message: expect.stringMatching(/^Update Catalan translation/) as string,
          },
        ],
      },
    ])
    // total_commits_count 4 > the 2 listed: the files of the other two are unknown.
    expect(e.changedFiles).toBeUndefined()
  })

  it('lists the changed files when every commit of the push is in the payload', () => {
    const body = { ...example('push.json'), total_commits_count: 2 }
    const e = parse('Push Hook', body) as PushEvent
    expect(e.changedFiles?.sort()).toEqual(['CHANGELOG', 'app/controller/application.rb'])
  })

  it('reads a created and a deleted branch (all-zero before or after), with no files', () => {
    const zero = '0000000000000000000000000000000000000000'
    const created = parse('Push Hook', {
      ...example('push.json'),
      before: zero,
      total_commits_count: 2,
      ref: 'refs/heads/feature/x',
    }) as PushEvent
    expect(created.changes[0]).toMatchObject({ name: 'feature/x', created: true, deleted: false })
    expect(created.changes[0]!.before).toBeUndefined()
    expect(created.changedFiles).toBeUndefined()
    const deleted = parse('Push Hook', {
      ...example('push.json'),
      after: zero,
      checkout_sha: null,
      commits: [],
      total_commits_count: 0,
    }) as PushEvent
    expect(deleted.changes[0]).toMatchObject({ created: false, deleted: true, commits: [] })
    expect(deleted.changes[0]!.after).toBeUndefined()
    expect(deleted.changedFiles).toBeUndefined()
  })

  it('takes [REDACTED] emails and missing optional members in its stride', () => {
    const body = example('push.json')
    body['user_email'] = '[REDACTED]'
    for (const c of body.commits) (c['author'] as Json)['email'] = '[REDACTED]'
    delete body['repository']
    expect((parse('Push Hook', body) as PushEvent).changes[0]!.commits).toHaveLength(2)
  })

  it("reads GitLab's tag example", () => {
    const e = parse('Tag Push Hook', example('tag-push.json')) as PushEvent
    expect(e.repository).toEqual({ fullName: 'jsmith/example', id: '1' })
    expect(e.changes).toEqual([
      {
        kind: 'tag',
        name: 'v1.0.0',
        after: '82b3d5ae55f7080f1e6022629cdb57bfae7cccc7',
        created: true,
        deleted: false,
        forced: false,
        commits: [],
      },
    ])
    expect(e.changedFiles).toBeUndefined()
  })

  it('refuses a push that names no project', () => {
    const body = example('push.json')
    delete body['project']
    expect(() => parse('Push Hook', body)).toThrow(WebhookRejected)
  })
})

describe('Merge Request Hook', () => {
  const mr = (action: string, extra: Json = {}) => {
    const body = example('merge-request.json')
    body.object_attributes = { ...body.object_attributes, action, ...extra }
    return parse('Merge Request Hook', body)
  }

  it("reads GitLab's example (open) as OPEN", () => {
    const e = parse('Merge Request Hook', example('merge-request.json')) as PullRequestEvent
    expect(e).toEqual({
      kind: 'pull_request',
      deliveryId: '13792a34-cac6-4fda-95a8-c58e00a3954e',
      repository: { fullName: 'gitlabhq/gitlab-test', id: '1' },
      action: 'OPEN',
      merged: false,
      number: 1,
      title: 'MS-Viewport',
      sourceBranch: 'ms-viewport',
      destinationBranch: 'master',
      sourceCommit: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
      // No target commit in the payload: the branch, which getCommit resolves.
      destinationCommit: 'master',
    })
  })

  it('maps reopen, update with new commits, merge and close; ignores the rest', () => {
    expect((mr('reopen') as PullRequestEvent).action).toBe('OPEN')
    expect(mr('update', { oldrev: '95790bf891e76fee5e1747ab589903a6a1f80f22' })).toMatchObject({
      action: 'UPDATED',
      merged: false,
    })
    expect(mr('merge')).toMatchObject({ action: 'CLOSED', merged: true })
    expect(mr('close')).toMatchObject({ action: 'CLOSED', merged: false })
    const noCommits = mr('update') as IgnoredEvent
    expect(noCommits.kind).toBe('ignored')
    expect(noCommits.reason).toMatch(/without new commits/)
    for (const a of ['approved', 'unapproved', 'approval', 'unapproval'])
      expect(mr(a).kind).toBe('ignored')
  })

  it('refuses a merge request without its iid', () => {
    const body = example('merge-request.json')
    delete body.object_attributes['iid']
    expect(() => parse('Merge Request Hook', body)).toThrow(WebhookRejected)
  })
})

describe('other events', () => {
  it.each([
    ['Note Hook', 'comment-merge-request.json'],
    ['Pipeline Hook', 'pipeline.json'],
    ['Job Hook', 'job.json'],
    ['Release Hook', 'release.json'],
    ['Issue Hook', 'work-item.json'],
  ])('%s is verified and ignored', (event, file) => {
    const e = parse(event, example(file)) as IgnoredEvent
    expect(e).toMatchObject({ kind: 'ignored', deliveryId: expect.any(String) as string })
    expect(e.reason).toContain(event)
  })

  it('a Push Hook header over another kind of body is ignored, not misread', () => {
    expect(parse('Push Hook', example('merge-request.json')).kind).toBe('ignored')
  })
})
