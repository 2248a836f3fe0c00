/**
 * @module providers/gitlab
 * GitLab as Junction knows it (docs/gitlab.md): the adapter on an OAuth application, its serve
 * flags, its OAuth handshake (callback `<public-url>/oauth/gitlab/callback`), its per-project
 * webhooks and the credentials `CompleteConnection` takes. Self-managed instances
 * (`GitLabSelfManaged`) use the same adapter with a host's endpoints (`selfManagedEndpoints`,
 * `ProviderRegistry.forHost`) and share this descriptor.
 */
import type { ProviderDescriptor } from '../descriptor.js'
import { GITLAB_DEFAULTS } from './client.js'
import { gitlabCompletion } from './completion.js'
import { GitLabProvider } from './gitlab-provider.js'
import { MAX_WEBHOOK_BYTES } from './webhook.js'

export { selfManagedEndpoints } from './client.js'
export { createInstanceApplication } from './applications.js'

export const GITLAB_URL = GITLAB_DEFAULTS.webUrl
export const GITLAB_API_URL = GITLAB_DEFAULTS.apiUrl

const flag = (v: string | boolean | undefined) => (typeof v === 'string' ? v : undefined)

export const gitlab: ProviderDescriptor = {
  type: 'GitLab',
  label: 'GitLab',
  path: 'gitlab',
  handshake: 'oauth',
  webhooks: 'per-repository',
  // No hook at all for a push moving more than three refs (push_event_activities_limit).
  pollBehindWebhooks: true,
  maxWebhookBytes: MAX_WEBHOOK_BYTES,
  targetNoun: 'group or namespace',
  app: { label: 'GitLab (OAuth application)', idLabel: 'Application ID' },
  configFlags: [
    {
      name: 'gitlab-url',
      help: `  --gitlab-url <url>         GitLab web and Git base URL (default ${GITLAB_URL})`,
    },
    {
      name: 'gitlab-api-url',
      help: `  --gitlab-api-url <url>     GitLab REST base (default <gitlab-url>/api/v4)`,
    },
    {
      name: 'gitlab-client-id',
      help: "  --gitlab-client-id <id>           Application ID of Junction's GitLab OAuth application (callback <public-url>/oauth/gitlab/callback, scope api)",
    },
    {
      name: 'gitlab-client-secret',
      help: '  --gitlab-client-secret <secret>   Its secret (prefer JUNCTION_GITLAB_CLIENT_SECRET: argv is visible to ps)',
    },
  ],
  envHelp: `  JUNCTION_GITLAB_CLIENT_ID,
  JUNCTION_GITLAB_CLIENT_SECRET       the GitLab OAuth application instead of the flags`,
  readConfig(flags, env, tools) {
    const clientId =
      flag(flags['gitlab-client-id']) ?? (env['JUNCTION_GITLAB_CLIENT_ID'] || undefined)
    const clientSecret =
      flag(flags['gitlab-client-secret']) ?? (env['JUNCTION_GITLAB_CLIENT_SECRET'] || undefined)
    if (!!clientId !== !!clientSecret)
      throw tools.error(
        'Give both the GitLab application id and secret (--gitlab-client-id and --gitlab-client-secret, or JUNCTION_GITLAB_CLIENT_ID and JUNCTION_GITLAB_CLIENT_SECRET)',
      )
    const webUrl = tools.httpUrl('gitlab-url', flag(flags['gitlab-url']) ?? GITLAB_URL)
    return {
      endpoints: {
        webUrl,
        apiUrl: tools.httpUrl(
          'gitlab-api-url',
          flag(flags['gitlab-api-url']) ?? `${webUrl}/api/v4`,
        ),
      },
      app: clientId && clientSecret ? { clientId, clientSecret } : {},
    }
  },
  createAdapter: (s) => new GitLabProvider({ type: 'GitLab', ...s }),
  completion: gitlabCompletion,
}
