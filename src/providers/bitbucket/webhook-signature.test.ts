/**
 * The Bitbucket delivery's signature and size checks, byte by byte (the payload parsing is covered
 * by test/providers/bitbucket-webhooks.test.ts against real samples).
 */
import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { WebhookRejected } from '../errors.js'
import { MAX_WEBHOOK_BYTES, parseBitbucketWebhook, signBitbucket } from './webhook.js'

const SECRET = 'webhook-secret'
const BODY = Buffer.from('{"repository":{"full_name":"team/repo"},"push":{"changes":[]}}')
const hmac = (body: Buffer | string, secret = SECRET) =>
  createHmac('sha256', secret).update(body).digest('hex')

function delivery(headers: Record<string, string | string[] | undefined>, body = BODY) {
  return {
    headers: { 'x-event-key': 'repo:push', 'x-request-uuid': 'd-1', ...headers },
    body,
  }
}

function rejection(f: () => unknown): string {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(WebhookRejected)
    return (e as Error).message
  }
  throw new Error('the delivery was accepted')
}

describe('Bitbucket webhook signature', () => {
  it('signs as sha256=<hex HMAC-SHA256 of the body>', () => {
    expect(signBitbucket(SECRET, BODY)).toBe(`sha256=${hmac(BODY)}`)
    expect(signBitbucket(SECRET, BODY.toString())).toBe(`sha256=${hmac(BODY)}`)
  })

  it('accepts the right signature, in any case, trimmed, first of several', () => {
    const sig = `sha256=${hmac(BODY)}`
    for (const h of [
      sig,
      sig.toUpperCase().replace('SHA256', 'sha256'),
      `SHA256=${hmac(BODY)}`,
      `  ${sig} `,
      [sig, 'x'],
    ])
      expect(parseBitbucketWebhook(delivery({ 'x-hub-signature': h }), SECRET)).toMatchObject({
        kind: 'push',
        deliveryId: 'd-1',
        repository: { fullName: 'team/repo' },
      })
  })

  it('refuses a delivery without a signature', () => {
    for (const h of [undefined, '', []])
      expect(
        rejection(() => parseBitbucketWebhook(delivery({ 'x-hub-signature': h }), SECRET)),
      ).toBe('The delivery carries no X-Hub-Signature')
  })

  it('refuses a signature that is not sha256=<64 hex digits>', () => {
    const hex = hmac(BODY)
    for (const h of [
      hex,
      `sha1=${hex}`,
      `sha256=${hex.slice(1)}`,
      `sha256=${hex}0`,
      `sha256=${hex.slice(1)}g`,
      `xsha256=${hex}`,
      `sha256=${hex}x`,
      `sha256= ${hex}`,
    ])
      expect(
        rejection(() => parseBitbucketWebhook(delivery({ 'x-hub-signature': h }), SECRET)),
        h,
      ).toBe('X-Hub-Signature is not sha256=<64 hex digits>')
  })

  it('refuses a signature of another body or under another secret', () => {
    const other = Buffer.from(BODY.toString().replace('repo', 'rep0'))
    for (const sig of [hmac(other), hmac(BODY, 'other-secret'), '0'.repeat(64)])
      expect(
        rejection(() =>
          parseBitbucketWebhook(delivery({ 'x-hub-signature': `sha256=${sig}` }), SECRET),
        ),
      ).toBe('X-Hub-Signature does not match the body')
  })

  it('refuses a body over the limit before checking anything, and takes one at the limit', () => {
    const big = Buffer.alloc(MAX_WEBHOOK_BYTES + 1, 0x20)
    expect(MAX_WEBHOOK_BYTES).toBe(1024 * 1024)
    expect(
      rejection(() =>
        parseBitbucketWebhook(delivery({ 'x-hub-signature': `sha256=${hmac(big)}` }, big), SECRET),
      ),
    ).toBe(`The delivery exceeds ${MAX_WEBHOOK_BYTES} bytes`)
    const json = BODY.toString()
    const exact = Buffer.from(json + ' '.repeat(MAX_WEBHOOK_BYTES - json.length))
    expect(exact.length).toBe(MAX_WEBHOOK_BYTES)
    expect(
      parseBitbucketWebhook(
        delivery({ 'x-hub-signature': `sha256=${hmac(exact)}` }, exact),
        SECRET,
      ),
    ).toMatchObject({ kind: 'push' })
  })

  it('refuses a signed delivery without X-Request-UUID, and takes the first of several', () => {
    const sig = `sha256=${hmac(BODY)}`
    for (const id of [undefined, ''])
      expect(
        rejection(() =>
          parseBitbucketWebhook(delivery({ 'x-hub-signature': sig, 'x-request-uuid': id }), SECRET),
        ),
      ).toBe('The delivery carries no X-Request-UUID')
    expect(
      parseBitbucketWebhook(
        delivery({ 'x-hub-signature': sig, 'x-request-uuid': ['d-2', 'd-3'] }),
        SECRET,
      ),
    ).toMatchObject({ deliveryId: 'd-2' })
  })

  it('checks the signature before reading the body', () => {
    const notJson = Buffer.from('not json')
    expect(
      rejection(() =>
        parseBitbucketWebhook(
          delivery({ 'x-hub-signature': `sha256=${'0'.repeat(64)}` }, notJson),
          SECRET,
        ),
      ),
    ).toBe('X-Hub-Signature does not match the body')
    expect(
      rejection(() =>
        parseBitbucketWebhook(
          delivery({ 'x-hub-signature': `sha256=${hmac(notJson)}` }, notJson),
          SECRET,
        ),
      ),
    ).toBe('The delivery body is not JSON')
  })

  it('requires a repository full name and strips only the braces around its uuid', () => {
    const parse = (repository: unknown) => {
      const body = Buffer.from(JSON.stringify({ repository, push: { changes: [] } }))
      return parseBitbucketWebhook(
        delivery({ 'x-hub-signature': `sha256=${hmac(body)}` }, body),
        SECRET,
      )
    }
    for (const r of [undefined, {}, { full_name: 7 }, { full_name: 'no-slash' }])
      expect(rejection(() => parse(r))).toBe('The delivery names no repository')
    expect(parse({ full_name: 't/r', uuid: '{a{b}c}' })).toMatchObject({
      repository: { fullName: 't/r', id: 'a{b}c' },
    })
    expect(parse({ full_name: 't/r', uuid: 'abc' })).toMatchObject({ repository: { id: 'abc' } })
    expect(parse({ full_name: 't/r', uuid: 5 })).toMatchObject({ repository: { id: '' } })
    expect(parse({ full_name: 't/r' })).toMatchObject({ repository: { id: '' } })
  })
})
