/**
 * @module providers/gitlab/completion
 * The credentials GitLab connections (gitlab.com, or a self-managed instance through its host) are
 * completed with without a browser (docs/gitlab.md). `Workspace` is the namespace: a group's full
 * path (`acme/platform`) or the user's own namespace.
 * - `PersonalAccessToken` (the default): a user's token with the `api` scope; for the whole
 *   namespace the user needs at least Maintainer on it (as the browser handshake does);
 * - `GroupAccessToken`: a group's bot token (`api`, Maintainer), reaching the group's projects;
 * - `ProjectAccessToken`: a project's bot token (`api`, Maintainer), reaching only that project
 *   (give `Repository`);
 * - `OAuth`: a user's OAuth access token (optionally with its refresh token and lifetime).
 * `Repository` (the project's path below the namespace, or its full path) narrows any of them to
 * that one project. Nothing is sent here: `verifyTarget` checks the token with the instance.
 */
import { InvalidInputException } from '../../generated/errors.js'
import type { CompletionRequest, CompletionSpec } from '../descriptor.js'
import type { ProviderCredentials } from '../provider.js'
import { gitlabCli } from './cli.js'
import { isNamespacePath } from './urls.js'

export type GitLabTokenType =
  'PersonalAccessToken' | 'GroupAccessToken' | 'ProjectAccessToken' | 'OAuth'

/** The installation's `credentialKind` for each token type (stored; shown as `CredentialType`). */
export const GITLAB_CREDENTIAL_KINDS: Record<GitLabTokenType, string> = {
  PersonalAccessToken: 'personal-access-token',
  GroupAccessToken: 'group-access-token',
  ProjectAccessToken: 'project-access-token',
  OAuth: 'oauth',
}

const TOKEN_TYPES = Object.keys(GITLAB_CREDENTIAL_KINDS) as GitLabTokenType[]

const str = (v: unknown) => (typeof v === 'string' ? v : undefined)

/** The project's path below `namespace` from `Repository` (relative, or full under it). */
function projectBelow(namespace: string, repository: string): string {
  const full = repository.toLowerCase().startsWith(`${namespace.toLowerCase()}/`)
  const below = full ? repository.slice(namespace.length + 1) : repository
  if (!isNamespacePath(below) || !isNamespacePath(`${namespace}/${below}`))
    throw new InvalidInputException(
      `Repository must be a project of ${namespace}: its path below it (tools/api) or its full path`,
    )
  return below
}

export const gitlabCompletion: CompletionSpec = {
  fields: {
    Workspace: {
      type: 'string',
      required: true,
      max: 1024,
      pattern: /^[A-Za-z0-9_.][A-Za-z0-9_./-]*$/,
    },
    AccessToken: { type: 'string', required: true, max: 4096 },
    TokenType: { type: 'string', max: 32, enum: TOKEN_TYPES },
    RefreshToken: { type: 'string', max: 4096 },
    ExpiresIn: { type: 'integer', min: 60, max: 10 * 365 * 86400 },
    Repository: { type: 'string', max: 1024, pattern: /^[A-Za-z0-9_.][A-Za-z0-9_./-]*$/ },
  },
  parse(i, now): CompletionRequest {
    const namespace = str(i['Workspace']) ?? ''
    const token = str(i['AccessToken']) ?? ''
    const type = (str(i['TokenType']) ?? 'PersonalAccessToken') as GitLabTokenType
    if (!namespace || !isNamespacePath(namespace))
      throw new InvalidInputException(
        'Give Workspace: the GitLab namespace (a group path such as acme/platform, or your username)',
      )
    if (!token) throw new InvalidInputException('Give AccessToken')
    if (!TOKEN_TYPES.includes(type))
      throw new InvalidInputException(`TokenType must be one of ${TOKEN_TYPES.join(', ')}`)
    const repository = str(i['Repository'])
    if (type === 'ProjectAccessToken' && repository === undefined)
      throw new InvalidInputException(
        'A project access token reaches only its project: give Repository',
      )
    if (type !== 'OAuth' && (i['RefreshToken'] !== undefined || i['ExpiresIn'] !== undefined))
      throw new InvalidInputException('RefreshToken and ExpiresIn are only for TokenType OAuth')
    const credentials: ProviderCredentials =
      type === 'OAuth'
        ? { kind: 'oauth', accessToken: token }
        : {
            kind: 'access-token',
            accessToken: token,
            ...(type === 'ProjectAccessToken'
              ? { level: 'repository' as const }
              : type === 'GroupAccessToken'
                ? { level: 'workspace' as const }
                : {}),
          }
    if (repository !== undefined)
      credentials.reach = { repository: projectBelow(namespace, repository) }
    const refresh = str(i['RefreshToken'])
    if (refresh) credentials.refreshToken = refresh
    if (typeof i['ExpiresIn'] === 'number') credentials.expiresAt = now + i['ExpiresIn'] * 1000
    return {
      target: namespace,
      credentials,
      credentialKind: GITLAB_CREDENTIAL_KINDS[type],
      // A token reaching the whole namespace needs Maintainer on it: webhooks are registered
      // with it on every project a pipeline uses.
      ...(credentials.reach
        ? {}
        : {
            administratorRequired: `Completing with all of ${namespace} needs at least the Maintainer role on it; the token's user has less (name a Repository to reach only that project)`,
          }),
    }
  },
  credentialType: (kind) =>
    TOKEN_TYPES.find((t) => GITLAB_CREDENTIAL_KINDS[t] === kind) ?? 'PersonalAccessToken',
  cli: gitlabCli,
}
