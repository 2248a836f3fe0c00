/**
 * @module providers/gitlab/hooks
 * A project webhook per repository a pipeline uses (shared/spec/gitlab/project_webhooks.md):
 * `POST /projects/:id/hooks` with the secret as its `token` (GitLab echoes it in `X-Gitlab-Token`
 * and never shows it again: hook reads answer `token_present` only), push and tag push events for
 * `push`, merge request events for `pull_request`, TLS verified. Needs Maintainer on the project.
 */
import type { ProviderCredentials, WebhookRef, WebhookSpec } from '../provider.js'
import type { GitLabClient } from './client.js'
import { inReach } from './namespaces.js'

export async function registerWebhook(
  gl: GitLabClient,
  c: ProviderCredentials,
  fullName: string,
  hook: WebhookSpec,
): Promise<WebhookRef> {
  await inReach(gl, c, fullName)
  const push = hook.events.includes('push')
  const body = {
    url: hook.url,
    token: hook.secret,
    // GitLab turns push events on unless told otherwise.
    push_events: push,
    tag_push_events: push,
    merge_requests_events: hook.events.includes('pull_request'),
    enable_ssl_verification: true,
  }
  const r = await gl.json<{ id: number }>(c, gl.project(fullName, 'hooks'), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { id: String(r.id) }
}

/** A webhook already gone (404) is not an error. */
export async function deleteWebhook(
  gl: GitLabClient,
  c: ProviderCredentials,
  fullName: string,
  ref: WebhookRef,
): Promise<void> {
  const res = await gl.call(c, gl.project(fullName, 'hooks', ref.id), {
    method: 'DELETE',
    accept: [404],
  })
  await res.body?.cancel()
}
