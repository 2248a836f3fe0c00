/**
 * @module console/recent-use
 * A connection page's "Recent use" card: the last events of the audit trail that name the
 * connection (API calls on it and its uses by pipelines, clone credentials and archives), read
 * through LookupEvents as the signed-in user, so a user without `cloudtrail:LookupEvents` is told
 * why instead of shown the trail. Everything shown is escaped.
 */
import type { IncomingMessage } from 'node:http'
import { lookupAs, type CloudTrailDeps } from '../audit/cloudtrail-api.js'
import { AwsError } from '../errors/aws-error.js'
import type { Principal } from '../iam/principal.js'
import { esc } from './html.js'

const SHOWN = 10

const OUTCOME_CLASS: Record<string, string> = {
  allowed: 'AVAILABLE',
  denied: 'ERROR',
  error: 'Failed',
}

interface Record_ {
  userIdentity?: { arn?: string }
  errorCode?: string
  additionalEventData?: { outcome?: string; use?: string; providerAction?: string }
}

/** The card's HTML (heading included). */
export async function recentUseCard(
  deps: CloudTrailDeps | undefined,
  req: IncomingMessage,
  principal: Principal,
  connectionArn: string,
): Promise<string> {
  const card = (inner: string) =>
    `<h2 id="recent-use">Recent use</h2><div class="card">${inner}</div>`
  if (!deps)
    return card(
      '<p class="muted">The audit trail is off on this server (<code>--audit off</code>).</p>',
    )
  let events
  try {
    events = (
      await lookupAs(deps, principal, req.socket.remoteAddress, {
        LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: connectionArn }],
        MaxResults: 50,
      })
    ).Events
      // The console's own reads to show this page are not uses of the connection.
      .filter(
        (e) => !(e.ReadOnly === 'true' && /"eventType":"AwsConsoleAction"/.test(e.CloudTrailEvent)),
      )
      .slice(0, SHOWN)
  } catch (err) {
    if (!(err instanceof AwsError)) throw err
    return card(
      `<p class="muted">Recent use is read from the audit trail, which needs <code>cloudtrail:LookupEvents</code>: ${esc(err.message)}</p>`,
    )
  }
  if (events.length === 0) return card('<p class="muted">No recorded use yet.</p>')
  const rows = events.map((e) => {
    const r = JSON.parse(e.CloudTrailEvent) as Record_
    const extra = r.additionalEventData ?? {}
    const outcome = extra.outcome ?? 'allowed'
    const what = extra.use
      ? `${e.EventName} <span class="muted">(${esc(extra.use)}${extra.providerAction ? `, ${esc(extra.providerAction)}` : ''})</span>`
      : esc(e.EventName)
    const when = new Date(e.EventTime * 1000).toISOString().replace('.000Z', 'Z')
    return `<tr><td data-label="When"><time datetime="${esc(when)}">${esc(when.replace('T', ' '))}</time></td><td data-label="Who" title="${esc(r.userIdentity?.arn ?? '')}">${esc(e.Username)}</td><td data-label="What">${what}</td><td data-label="Outcome"><span class="badge ${OUTCOME_CLASS[outcome] ?? ''}">${esc(outcome)}</span>${r.errorCode ? ` <code>${esc(r.errorCode)}</code>` : ''}</td></tr>`
  })
  return card(
    `<table class="list"><thead><tr><th scope="col">When (UTC)</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Outcome</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
  )
}
