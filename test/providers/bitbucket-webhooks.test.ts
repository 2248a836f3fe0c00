/**
 * The real Bitbucket sample payloads (shared/fixtures/webhooks/bitbucket, MIT) through the
 * adapter's verifier and parser, and the deliveries it must refuse.
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

describe('Bitbucket webhook fixtures', () => {
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
