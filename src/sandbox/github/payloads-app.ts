/**
 * @module sandbox/github/payloads-app
 * The GitHub App's own events: `installation`, `installation_repositories`, `ping` and
 * `github_app_authorization` (see payloads.ts for the contract).
 */
import { installationRepository, userObject } from './payloads-objects.js'
import type {
  AuthorizationRevokedInput,
  HookInstallation,
  HookUrls,
  InstallationInput,
  InstallationRepositoriesInput,
  PingInput,
} from './payloads-types.js'

/** The full installation object (`installation` on installation events). */
export function installationObject(urls: HookUrls, i: HookInstallation) {
  const settings =
    i.account.type === 'Organization'
      ? `${urls.web}/organizations/${i.account.login}/settings/installations/${i.id}`
      : `${urls.web}/settings/installations/${i.id}`
  return {
    id: i.id,
    ...(i.clientId ? { client_id: i.clientId } : {}),
    account: userObject(urls, i.account),
    repository_selection: i.repositorySelection,
    access_tokens_url: `${urls.api}/app/installations/${i.id}/access_tokens`,
    repositories_url: `${urls.api}/installation/repositories`,
    html_url: settings,
    app_id: i.appId,
    app_slug: i.appSlug,
    target_id: i.account.id,
    target_type: i.account.type,
    permissions: i.permissions,
    events: i.events,
    created_at: i.createdAt,
    updated_at: i.updatedAt,
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [] as string[],
    suspended_by: i.suspendedBy ? userObject(urls, i.suspendedBy) : null,
    suspended_at: i.suspendedAt ?? null,
  }
}

/**
 * `installation`: `created` (with the repositories it reaches and, when someone asked the owner,
 * `requester`), `deleted`, `suspend`, `unsuspend`, `new_permissions_accepted`.
 */
export function installationPayload(p: InstallationInput) {
  return {
    action: p.action,
    installation: installationObject(p.urls, p.installation),
    repositories: p.repositories.map(installationRepository),
    ...(p.action === 'created'
      ? { requester: p.requester ? userObject(p.urls, p.requester) : null }
      : {}),
    sender: userObject(p.urls, p.sender),
  }
}

/** `installation_repositories`: repositories `added` to or `removed` from a selection. */
export function installationRepositoriesPayload(p: InstallationRepositoriesInput) {
  return {
    action: p.action,
    installation: installationObject(p.urls, p.installation),
    repository_selection: p.installation.repositorySelection,
    repositories_added: p.added.map(installationRepository),
    repositories_removed: p.removed.map(installationRepository),
    requester: p.requester ? userObject(p.urls, p.requester) : null,
    sender: userObject(p.urls, p.sender),
  }
}

/** `ping` on the app's webhook, sent when the app is registered (`hook.type` `App`). */
export function pingPayload(p: PingInput) {
  return {
    zen: p.zen ?? 'Design for failure.',
    hook_id: p.hookId,
    hook: {
      type: 'App',
      id: p.hookId,
      name: 'web',
      active: true,
      events: p.events,
      config: {
        content_type: p.contentType ?? 'json',
        insecure_ssl: p.insecureSsl ? '1' : '0',
        ...(p.hasSecret ? { secret: '********' } : {}),
        url: p.url,
      },
      updated_at: p.updatedAt ?? p.createdAt,
      created_at: p.createdAt,
      app_id: p.appId,
      deliveries_url: `${p.urls.api}/app/hook/deliveries`,
    },
    sender: userObject(p.urls, p.sender),
  }
}

/** `github_app_authorization` `revoked`: a user revoked their authorization of the app. */
export function authorizationRevokedPayload(p: AuthorizationRevokedInput) {
  return { action: 'revoked', sender: userObject(p.urls, p.sender) }
}
