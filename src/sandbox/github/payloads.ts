/**
 * @module sandbox/github/payloads
 * The JSON bodies and headers the sandbox GitHub's App webhook delivers, built as GitHub builds
 * them. Pure functions of plain data (base URLs, accounts, repositories, commits, pull requests,
 * the installation): no state, no I/O, deterministic for the same input.
 *
 * API (types in payloads-types.ts):
 * - `pushPayload(PushInput)` — `push`: branch or tag; `created` when `before` is 40 zeros,
 *   `deleted` when `after` is (then `commits: []`, `head_commit: null`), `forced` as given.
 * - `createPayload(RefEventInput)`, `deletePayload(RefEventInput)` — `create`/`delete`.
 * - `pullRequestPayload(PullRequestInput)` — `pull_request` `opened`, `synchronize`
 *   (`before`/`after`), `reopened`, `closed` (`merged`, `merge_commit_sha`), `edited` (`changes`).
 * - `installationPayload(InstallationInput)` — `installation` `created` (`repositories`,
 *   `requester`), `deleted`, `suspend`, `unsuspend`, `new_permissions_accepted`.
 * - `installationRepositoriesPayload(InstallationRepositoriesInput)` — `added`/`removed`.
 * - `pingPayload(PingInput)` — the app hook's `ping` (`hook.type` `App`, `hook.app_id`).
 * - `authorizationRevokedPayload(AuthorizationRevokedInput)` — `github_app_authorization`.
 * - `deliveryHeaders(DeliveryHeadersInput)` — the headers of one delivery, signed.
 * - `userObject`, `repositoryObject`, `installationObject`, `pullRequestObject`,
 *   `legacyNodeId` — the embedded objects, for REST answers that share their shapes.
 *
 * Faithfulness (test/sandbox/github-payloads.test.ts): every payload validates against
 * GitHub's webhook schema for its event and action (`@octokit/openapi-webhooks`, api.github.com
 * and GHES 3.19, in ../shared/spec/github) and carries every key of GitHub's published examples
 * for the same event and action (`@octokit/webhooks-examples`), the exceptions listed there with
 * their reasons. URLs take GitHub's shapes on the sandbox's bases: `https://github.com/o/r` →
 * `<web>/o/r`, `https://api.github.com/repos/o/r` → `<api>/repos/o/r` (GHES: `<web>/api/v3`).
 * Deliveries to an App carry `installation: {id, node_id}` (pass `installation`); an
 * organization's repository adds `organization`.
 */
import { createHmac } from 'node:crypto'

export * from './payloads-types.js'
export {
  installationRef,
  legacyNodeId,
  organizationObject,
  pushRepositoryObject,
  repositoryObject,
  userObject,
} from './payloads-objects.js'
export { createPayload, deletePayload, pushPayload } from './payloads-push.js'
export { pullRequestObject, pullRequestPayload } from './payloads-pulls.js'
export {
  authorizationRevokedPayload,
  installationObject,
  installationPayload,
  installationRepositoriesPayload,
  pingPayload,
} from './payloads-app.js'

export interface DeliveryHeadersInput {
  /** `push`, `pull_request`, `installation`, … */
  event: string
  /** A GUID, kept across redeliveries of the same event. */
  deliveryId: string
  /** The exact bytes sent. */
  body: string | Buffer
  /** The app's webhook secret; without one GitHub sends no signature headers. */
  secret?: string
  hookId: number
  appId: number
}

/**
 * The headers GitHub sends with an App webhook delivery: `X-GitHub-Event`,
 * `X-GitHub-Delivery`, `X-GitHub-Hook-ID`, `X-GitHub-Hook-Installation-Target-Type:
 * integration` and `-ID` (the app id), and with a secret `X-Hub-Signature-256` (HMAC-SHA256 of
 * the body) and the legacy SHA-1 `X-Hub-Signature`.
 */
export function deliveryHeaders(d: DeliveryHeadersInput): Record<string, string> {
  const h: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/junction-sandbox',
    'x-github-event': d.event,
    'x-github-delivery': d.deliveryId,
    'x-github-hook-id': String(d.hookId),
    'x-github-hook-installation-target-type': 'integration',
    'x-github-hook-installation-target-id': String(d.appId),
  }
  if (d.secret) {
    h['x-hub-signature'] = `sha1=${createHmac('sha1', d.secret).update(d.body).digest('hex')}`
    h['x-hub-signature-256'] =
      `sha256=${createHmac('sha256', d.secret).update(d.body).digest('hex')}`
  }
  return h
}
