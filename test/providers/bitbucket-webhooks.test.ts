/**
 * Bitbucket payloads through the adapter's verifier and parser: the current ones
 * (test/fixtures/bitbucket, assembled from Bitbucket's event-payload reference), the older
 * documentation samples (shared/fixtures/webhooks/bitbucket, MIT) which it must still accept, lean
 * and odd ones it must tolerate, and the deliveries it must refuse.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  MAX_WEBHOOK_BYTES,
  parseBitbucketWebhook,
  signBitbucket,
} from '../../src/providers/bitbucket/webhook.js'
import { WebhookRejected } from '../../src/providers/errors.js'
import type { PullRequestEvent, PushEvent } from '../../src/providers/provider.js'

const DIR = join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'shared',
  'fixtures',
  'webhooks',
  'bitbucket',
)
const SECRET = 'fixture-secret'

/** The X-Event-Key Bitbucket sends with each sample. */
const EVENT_KEYS: Record<string, string> = {
  'repo-push': 'repo:push',
  'repo-fork': 'repo:fork',
  'repo-updated': 'repo:updated',
  'repo-commit-status-created': 'repo:commit_status_created',
  'repo-commit-status-updated': 'repo:commit_status_updated',
  'commit-comment-created': 'repo:commit_comment_created',
  'issue-created': 'issue:created',
  'issue-updated': 'issue:updated',
  'issue-comment-created': 'issue:comment_created',
  'pull-request-created': 'pullrequest:created',
  'pull-request-updated': 'pullrequest:updated',
  'pull-request-merged': 'pullrequest:fulfilled',
  'pull-request-declined': 'pullrequest:rejected',
  'pull-request-approved': 'pullrequest:approved',
  'pull-request-approval-removed': 'pullrequest:unapproved',
  'pull-request-comment-created': 'pullrequest:comment_created',
  'pull-request-comment-updated': 'pullrequest:comment_updated',
  'pull-request-comment-deleted': 'pullrequest:comment_deleted',
}

function delivery(body: Buffer, eventKey: string, over: Record<string, string | undefined> = {}) {
  const headers: Record<string, string | undefined> = {
    'x-event-key': eventKey,
    'x-request-uuid': 'b6a4f5b4-6d5c-4b9e-9d1e-000000000001',
    'x-hook-uuid': 'a0a0a0a0-0000-0000-0000-000000000000',
    'x-hub-signature': signBitbucket(SECRET, body),
    ...over,
  }
  return { headers, body }
}

describe('older Bitbucket documentation samples', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json'))

  it('has an event key for every sample', () => {
    expect(files.length).toBe(18)
    for (const f of files) expect(EVENT_KEYS[f.replace('.json', '')], f).toBeDefined()
  })

  for (const f of files) {
    const name = f.replace('.json', '')
    it(`parses ${name}`, () => {
      const body = readFileSync(join(DIR, f))
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a sample payload, read loosely
      const payload = JSON.parse(body.toString()) as Record<string, any>
      const event = parseBitbucketWebhook(delivery(body, EVENT_KEYS[name]!), SECRET)
      expect(event.deliveryId).toBe('b6a4f5b4-6d5c-4b9e-9d1e-000000000001')
      if (name === 'repo-push') {
        const push = event as PushEvent
        expect(push.kind).toBe('push')
        expect(push.repository.fullName).toBe(payload['repository'].full_name)
        const change = payload['push'].changes[0]
        expect(push.changes).toEqual([
          {
            kind: change.new.type,
            name: change.new.name,
            before: change.old.target.hash,
            after: change.new.target.hash,
            created: false,
            deleted: false,
            forced: change.forced,
            commits: change.commits.map((c: { hash: string; message: string }) => ({
              id: c.hash,
              message: c.message,
            })),
          },
        ])
        // Bitbucket sends no file lists: changed files come from the diffstat API.
        expect(push.changedFiles).toBeUndefined()
      } else if (
        [
          'pull-request-created',
          'pull-request-updated',
          'pull-request-merged',
          'pull-request-declined',
        ].includes(name)
      ) {
        const pr = event as PullRequestEvent
        const p = payload['pullrequest']
        expect(pr).toMatchObject({
          kind: 'pull_request',
          action:
            { 'pull-request-created': 'OPEN', 'pull-request-updated': 'UPDATED' }[name] ?? 'CLOSED',
          merged: name === 'pull-request-merged',
          number: p.id,
          title: p.title,
          sourceBranch: p.source.branch.name,
          destinationBranch: p.destination.branch.name,
          sourceCommit: p.source.commit.hash,
          destinationCommit: p.destination.commit.hash,
          repository: { fullName: payload['repository'].full_name },
        })
        // The samples carry Bitbucket's 12-character abbreviations.
        expect(pr.sourceCommit).toMatch(/^[0-9a-f]{12}$/)
      } else {
        expect(event.kind).toBe('ignored')
      }
    })
  }
})

describe('Bitbucket webhook refusals', () => {
  const body = readFileSync(join(DIR, 'repo-push.json'))

  it('refuses a body changed after signing', () => {
    const d = delivery(body, 'repo:push')
    const tampered = Buffer.from(body.toString().replace('name-of-branch', 'main'))
    expect(() => parseBitbucketWebhook({ headers: d.headers, body: tampered }, SECRET)).toThrow(
      /does not match/,
    )
  })

  it('refuses a signature made with another secret, a missing one, and a malformed one', () => {
    expect(() =>
      parseBitbucketWebhook(
        delivery(body, 'repo:push', { 'x-hub-signature': signBitbucket('other', body) }),
        SECRET,
      ),
    ).toThrow(WebhookRejected)
    expect(() =>
      parseBitbucketWebhook(delivery(body, 'repo:push', { 'x-hub-signature': undefined }), SECRET),
    ).toThrow(/no X-Hub-Signature/)
    for (const sig of ['sha1=abc', 'sha256=xyz', signBitbucket(SECRET, body).slice(0, 40), ''])
      expect(() =>
        parseBitbucketWebhook(delivery(body, 'repo:push', { 'x-hub-signature': sig }), SECRET),
      ).toThrow(WebhookRejected)
  })

  it('refuses an oversized delivery before computing anything', () => {
    const big = Buffer.alloc(MAX_WEBHOOK_BYTES + 1, 0x20)
    expect(() => parseBitbucketWebhook(delivery(big, 'repo:push'), SECRET)).toThrow(/exceeds/)
  })

  it('refuses a signed body that is not JSON, a push without a repository, and a missing delivery id', () => {
    const notJson = Buffer.from('{oops')
    expect(() => parseBitbucketWebhook(delivery(notJson, 'repo:push'), SECRET)).toThrow(/not JSON/)
    const noRepo = Buffer.from(JSON.stringify({ push: { changes: [] } }))
    expect(() => parseBitbucketWebhook(delivery(noRepo, 'repo:push'), SECRET)).toThrow(
      /names no repository/,
    )
    expect(() =>
      parseBitbucketWebhook(delivery(body, 'repo:push', { 'x-request-uuid': undefined }), SECRET),
    ).toThrow(/X-Request-UUID/)
  })
})

/** Current payloads (test/fixtures/bitbucket; its README names their sources). */
const CURRENT = join(import.meta.dirname, '..', 'fixtures', 'bitbucket')

describe('current Bitbucket payloads', () => {
  const read = (f: string) => readFileSync(join(CURRENT, f))

  it('parses repo:push: a moved branch and a created one, commits listed', () => {
    const body = read('repo-push.json')
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a sample payload, read loosely
    const p = JSON.parse(body.toString()) as Record<string, any>
    const push = parseBitbucketWebhook(delivery(body, 'repo:push'), SECRET) as PushEvent
    expect(push.kind).toBe('push')
    expect(push.repository).toEqual({
      fullName: 'example-ws/example-repo',
      id: '6d5c4b3a-2f1e-4d0c-8b9a-7f6e5d4c3b2a',
    })
    const [moved, created] = p['push'].changes
    expect(push.changes).toEqual([
      {
        kind: 'branch',
        name: 'main',
        created: false,
        deleted: false,
        forced: false,
        before: moved.old.target.hash,
        after: moved.new.target.hash,
        commits: moved.commits.map((c: { hash: string; message: string }) => ({
          id: c.hash,
          message: c.message,
        })),
      },
      {
        kind: 'branch',
        name: 'feature/x',
        created: true,
        deleted: false,
        forced: false,
        after: created.new.target.hash,
        commits: created.commits.map((c: { hash: string; message: string }) => ({
          id: c.hash,
          message: c.message,
        })),
      },
    ])
  })

  for (const [file, key, action, merged] of [
    ['pullrequest-created.json', 'pullrequest:created', 'OPEN', false],
    ['pullrequest-updated.json', 'pullrequest:updated', 'UPDATED', false],
    ['pullrequest-fulfilled.json', 'pullrequest:fulfilled', 'CLOSED', true],
    ['pullrequest-rejected.json', 'pullrequest:rejected', 'CLOSED', false],
  ] as const)
    it(`parses ${key} (merge_commit and closed_by null or set, commits with links)`, () => {
      const pr = parseBitbucketWebhook(delivery(read(file), key), SECRET) as PullRequestEvent
      expect(pr).toEqual({
        kind: 'pull_request',
        deliveryId: 'b6a4f5b4-6d5c-4b9e-9d1e-000000000001',
        repository: {
          fullName: 'example-ws/example-repo',
          id: '6d5c4b3a-2f1e-4d0c-8b9a-7f6e5d4c3b2a',
        },
        action,
        merged,
        number: 7,
        title: 'Change the example',
        sourceBranch: 'feature/x',
        destinationBranch: 'main',
        sourceCommit: '5f0c2e9a1b7d',
        destinationCommit: '0e9d8c7b6a5f',
      })
    })

  it('stays tolerant: unknown keys, nulls where objects were, keys it does not read missing', () => {
    const lean = {
      repository: { full_name: 'ws/repo', future_field: { x: [1] } },
      pullrequest: {
        id: 3,
        title: 42,
        source: { branch: { name: 'topic' }, commit: null, repository: null },
        destination: { branch: { name: 'main' }, commit: { hash: 'abcdefabcdef' } },
        merge_commit: null,
        closed_by: null,
        draft: false,
      },
    }
    const pr = parseBitbucketWebhook(
      delivery(Buffer.from(JSON.stringify(lean)), 'pullrequest:updated'),
      SECRET,
    ) as PullRequestEvent
    expect(pr).toMatchObject({
      action: 'UPDATED',
      number: 3,
      title: '',
      sourceBranch: 'topic',
      sourceCommit: '',
      destinationCommit: 'abcdefabcdef',
      repository: { fullName: 'ws/repo', id: '' },
    })
    const push = {
      repository: { full_name: 'ws/repo' },
      push: {
        changes: [
          { old: null, new: { type: 'branch', name: 'b', target: { hash: 'a'.repeat(40) } } },
          { old: null, new: { type: 'named_branch', name: 'hg' } },
          { new: null, old: { type: 'tag', name: 'v1', target: { hash: 'b'.repeat(40) } } },
        ],
      },
    }
    const event = parseBitbucketWebhook(
      delivery(Buffer.from(JSON.stringify(push)), 'repo:push'),
      SECRET,
    ) as PushEvent
    expect(event.changes).toEqual([
      {
        kind: 'branch',
        name: 'b',
        created: true,
        deleted: false,
        forced: false,
        after: 'a'.repeat(40),
        commits: [],
      },
      {
        kind: 'tag',
        name: 'v1',
        created: false,
        deleted: true,
        forced: false,
        before: 'b'.repeat(40),
        commits: [],
      },
    ])
  })
})
