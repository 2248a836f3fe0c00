/**
 * @module sandbox/bitbucket/webhooks
 * Delivers webhook payloads (built in payloads.ts) the way Bitbucket does: JSON POST with
 * `X-Event-Key`, `X-Hook-UUID`, `X-Request-UUID`, `X-Attempt-Number`, and `X-Hub-Signature:
 * sha256=…` when the hook has a secret; retried twice on failure.
 */
import { randomUUID } from 'node:crypto'
import { signBitbucket } from '../../providers/bitbucket/webhook.js'
import type { SandboxState, SbDelivery, SbRepository } from './state.js'

/** Delivers `payload` to every active hook of the repository subscribed to `event`. */
export function deliver(
  state: SandboxState,
  repo: SbRepository,
  event: string,
  payload: unknown,
): Promise<void>[] {
  const body = Buffer.from(JSON.stringify(payload))
  return sendTo(state, repo, event, body)
}

/**
 * Sends a recorded delivery again, as Bitbucket's "Resend request" does: the same body and the
 * same X-Request-UUID (a receiver sees a retry of a delivery it may already have).
 */
export function redeliver(state: SandboxState, id: string): Promise<void> | undefined {
  const sent = state.deliveries.find((d) => d.id === id || d.id === `{${id}}`)
  const body = sent && state.deliveryBodies.get(sent.id)
  const h = sent && state.data.hooks.find((x) => x.uuid === sent.hook)
  if (!sent || !body || !h) return undefined
  return attempt(state, h, sent, body.event, body.body)
}

function sendTo(
  state: SandboxState,
  repo: SbRepository,
  event: string,
  body: Buffer,
): Promise<void>[] {
  const hooks = state.data.hooks.filter(
    (h) =>
      h.workspace === repo.workspace &&
      h.slug === repo.slug &&
      h.active &&
      h.events.includes(event),
  )
  return hooks.map(async (h) => {
    const record: SbDelivery = {
      id: `{${randomUUID()}}`,
      hook: h.uuid,
      event,
      url: h.url,
      status: 'error',
      attempts: 0,
      at: new Date().toISOString(),
    }
    state.deliveries.push(record)
    state.deliveryBodies.set(record.id, { event, body })
    if (state.deliveries.length > 1000) state.deliveryBodies.delete(state.deliveries.shift()!.id)
    return attempt(state, h, record, event, body)
  })
}

async function attempt(
  _state: SandboxState,
  h: SandboxState['data']['hooks'][number],
  record: SbDelivery,
  event: string,
  body: Buffer,
): Promise<void> {
  {
    for (let attempt = 1; attempt <= 3; attempt++) {
      record.attempts = attempt
      const headers: Record<string, string> = {
        'Content-Type': 'application/json',
        'User-Agent': 'Bitbucket-Webhooks/2.0',
        'X-Event-Key': event,
        'X-Hook-UUID': h.uuid.replace(/^\{|\}$/g, ''),
        'X-Request-UUID': record.id.replace(/^\{|\}$/g, ''),
        'X-Attempt-Number': String(attempt),
      }
      if (h.secret) headers['X-Hub-Signature'] = signBitbucket(h.secret, body)
      try {
        const res = await fetch(h.url, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(10_000),
        })
        await res.body?.cancel()
        record.status = res.status
        if (res.status < 500) return
      } catch {
        record.status = 'error'
      }
      await new Promise((r) => setTimeout(r, 200 * attempt))
    }
  }
}
