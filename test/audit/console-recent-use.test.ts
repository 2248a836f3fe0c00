/**
 * A connection's console page shows its recent use from the audit trail (when, who, what, outcome),
 * read as the signed-in user: a user without cloudtrail:LookupEvents is told why instead.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Credentials } from '../helpers/client.js'
import {
  completeWithToken,
  ext,
  newConnection,
  startConnectFixture,
  stopConnectFixture,
  type ConnectFixture,
} from '../helpers/connect.js'
import { testEngines } from '../helpers/engines.js'
import { policy, userWithPolicy } from '../helpers/iam.js'

async function signIn(base: string, creds: Credentials): Promise<string> {
  const r = await fetch(`${base}/console/signin`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      accessKeyId: creds.accessKeyId,
      secretAccessKey: creds.secretAccessKey,
      next: '/console',
    }),
  })
  const cookie = r.headers.getSetCookie().find((c) => c.startsWith('junction_console='))
  expect(cookie).toBeDefined()
  return cookie!.split(';')[0]!
}

/** The "Recent use" card's HTML (to the next heading). */
async function recentUse(base: string, cookie: string, arn: string): Promise<string> {
  const r = await fetch(`${base}/console/connection?arn=${encodeURIComponent(arn)}`, {
    headers: { cookie },
  })
  expect(r.status).toBe(200)
  const html = await r.text()
  const start = html.indexOf('<h2 id="recent-use">Recent use</h2>')
  expect(start).toBeGreaterThan(0)
  return html.slice(start, html.indexOf('<h2', start + 10))
}

describe.each(testEngines())('console: recent use of a connection (%s)', (engine) => {
  let f: ConnectFixture
  let arn = ''

  beforeAll(async () => {
    f = await startConnectFixture(engine)
    arn = await newConnection(f)
    expect((await completeWithToken(f, arn)).status).toBe(200)
    const clone = await ext(f, 'GetCloneCredentials', {
      ConnectionArn: arn,
      FullRepositoryId: 'acme/app',
    })
    expect(clone.status, clone.text).toBe(200)
    // Refused by the connection's reach: recorded as denied.
    const outside = await ext(f, 'GetCloneCredentials', {
      ConnectionArn: arn,
      FullRepositoryId: 'rival/secret',
    })
    expect(outside.status).toBe(400)
  }, 60_000)
  afterAll(() => stopConnectFixture(f))

  it('lists when, who, what and the outcome, newest first', async () => {
    const cookie = await signIn(f.server.url, f.server.credentials)
    const card = await recentUse(f.server.url, cookie, arn)
    const rows = [...card.matchAll(/<tr><td data-label="When">[\s\S]*?<\/tr>/g)].map((m) => m[0])
    expect(rows.length).toBeGreaterThanOrEqual(5)
    expect(rows.length).toBeLessThanOrEqual(10)
    expect(rows[0]).toMatch(/<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ">/)
    expect(card).toMatch(/data-label="Who"[^>]*>root</)
    expect(card).toMatch(/UseConnection <span class="muted">\(clone-credentials, GitPull\)/)
    expect(card).toMatch(/GetCloneCredentials/)
    expect(card).toMatch(/CompleteConnection/)
    expect(card).toMatch(/CreateConnection/)
    expect(card).toMatch(/>denied<\/span> <code>AccessDeniedException<\/code>/)
    expect(card).toMatch(/>allowed<\/span>/)
    // The page's own reads (ListTagsForResource as a console action) are not shown as uses.
    expect(card).not.toMatch(/ListTagsForResource/)
  })

  it('tells a user without cloudtrail:LookupEvents why the card is empty', async () => {
    const creds = await userWithPolicy(
      f.iam,
      'console-no-trail',
      policy({ Effect: 'Allow', Action: 'codestar-connections:*', Resource: '*' }),
    )
    const cookie = await signIn(f.server.url, creds)
    const card = await recentUse(f.server.url, cookie, arn)
    expect(card).toMatch(/needs <code>cloudtrail:LookupEvents<\/code>/)
    expect(card).not.toMatch(/<table/)
  })
})
