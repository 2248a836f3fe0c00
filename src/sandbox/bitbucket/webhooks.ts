/**
 * @module sandbox/bitbucket/webhooks
 * Bitbucket's side of webhook delivery (the core's Deliveries sends, retries and resends): which
 * hooks of a repository take an event, and the headers Bitbucket sends: `X-Event-Key`,
 * `X-Hook-UUID`, `X-Request-UUID`, `X-Attempt-Number`, and `X-Hub-Signature: sha256=…` when the
 * hook has a secret. Payloads are built in payloads.ts.
 */
import { randomUUID } from 'node:crypto'
import { signBitbucket } from '../../providers/bitbucket/webhook.js'
import type { DeliveryOptions, HookTarget } from '../core/deliveries.js'
import type { SandboxState, SbRepository } from './state.js'

const bare = (uuid: string) => uuid.replace(/^\{|\}$/g, '')

/** The active hooks of the repository subscribed to `event`. */
export function hookTargets(state: SandboxState, repo: SbRepository, event: string): HookTarget[] {
  return state.data.hooks
    .filter(
      (h) =>
        h.workspace === repo.workspace &&
        h.slug === repo.slug &&
        h.active &&
        h.events.includes(event),
    )
    .map((h) => ({ id: h.uuid, url: h.url, secret: h.secret }))
}

/** Bitbucket's delivery headers, ids in braces, and hook lookup for resends. */
export function bitbucketDeliveries(
  state: SandboxState,
): Omit<DeliveryOptions, 'track'> & { matches(given: string, recorded: string): boolean } {
  return {
    newId: () => `{${randomUUID()}}`,
    headers(h, record, body, attempt) {
      const headers: Record<string, string> = {
        'User-Agent': 'Bitbucket-Webhooks/2.0',
        'X-Event-Key': record.event,
        'X-Hook-UUID': bare(h.id),
        'X-Request-UUID': bare(record.id),
        'X-Attempt-Number': String(attempt),
      }
      if (h.secret) headers['X-Hub-Signature'] = signBitbucket(h.secret, body)
      return headers
    },
    findHook(id) {
      const h = state.data.hooks.find((x) => x.uuid === id)
      return h && { id: h.uuid, url: h.url, secret: h.secret }
    },
    // A delivery id may be given with or without its braces.
    matches: (given, recorded) => recorded === given || recorded === `{${given}}`,
  }
}
