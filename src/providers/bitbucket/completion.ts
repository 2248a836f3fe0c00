/**
 * @module providers/bitbucket/completion
 * The credentials Bitbucket connections are completed with without a browser (README "Completing
 * without a browser" has the plans and scopes): repository, project and workspace access tokens
 * (Bearer for the REST API, `x-token-auth` for Git), a user's Atlassian API token with scopes
 * (Basic `email:token` for the REST API, `x-bitbucket-api-token-auth` for Git), and a user's OAuth
 * token. App passwords are not taken: Bitbucket stopped creating them on 9 Sep 2025 and removed
 * them on 28 Jul 2026.
 */
import { InvalidInputException } from '../../generated/errors.js'
import type { CompletionRequest, CompletionSpec } from '../descriptor.js'
import type { CredentialReach, ProviderCredentials } from '../provider.js'
import { bitbucketCli } from './cli.js'

export type TokenType =
  'WorkspaceAccessToken' | 'ProjectAccessToken' | 'RepositoryAccessToken' | 'ApiToken' | 'OAuth'

/** The installation's `credentialKind` for each token type (stored; shown as `CredentialType`). */
export const CREDENTIAL_KINDS: Record<TokenType, string> = {
  WorkspaceAccessToken: 'access-token',
  ProjectAccessToken: 'project-access-token',
  RepositoryAccessToken: 'repository-access-token',
  ApiToken: 'api-token',
  OAuth: 'oauth',
}

const TOKEN_TYPES = Object.keys(CREDENTIAL_KINDS) as TokenType[]

/** `CompleteConnection`'s Bitbucket members, as the API documents them. */
export interface BitbucketCompletion {
  workspace: string
  tokenType: TokenType
  accessToken: string
  refreshToken?: string
  expiresIn?: number
  /** A project key within the workspace. */
  project?: string
  /** A repository slug (or `workspace/slug`) within the workspace. */
  repository?: string
  /** The Atlassian account email an API token is used with. */
  email?: string
}

/** The credential `complete` was given, its kind, reach and inputs checked (nothing sent yet). */
export function bitbucketCredential(input: BitbucketCompletion, now: number): ProviderCredentials {
  const t = input.tokenType
  if (!(t in CREDENTIAL_KINDS))
    throw new InvalidInputException(`TokenType must be one of ${TOKEN_TYPES.join(', ')}`)
  const reach: CredentialReach = {}
  if (input.project !== undefined) {
    if (!/^[A-Za-z0-9_]{1,64}$/.test(input.project))
      throw new InvalidInputException('Project must be a project key (letters, digits, _)')
    reach.project = input.project
  }
  if (input.repository !== undefined) {
    const parts = input.repository.split('/')
    const slug = parts.length === 2 ? parts[1]! : parts[0]!
    if (parts.length > 2 || (parts.length === 2 && parts[0] !== input.workspace))
      throw new InvalidInputException(
        `Repository must be a repository of workspace ${input.workspace} (slug or ${input.workspace}/slug)`,
      )
    if (!/^[A-Za-z0-9_.-]{1,128}$/.test(slug))
      throw new InvalidInputException('Repository must be a repository slug')
    reach.repository = slug.toLowerCase()
  }
  if (t === 'RepositoryAccessToken' && !reach.repository)
    throw new InvalidInputException(
      'A repository access token reaches only its repository: give Repository',
    )
  if (t === 'ProjectAccessToken' && !reach.project)
    throw new InvalidInputException('A project access token reaches only its project: give Project')
  if (t === 'RepositoryAccessToken' && reach.project)
    throw new InvalidInputException('A repository access token takes Repository, not Project')
  if (t === 'ApiToken') {
    if (!input.email || !/^[^@\s]+@[^@\s]+$/.test(input.email))
      throw new InvalidInputException(
        'An API token is used with its Atlassian account email: give Email',
      )
  } else if (input.email !== undefined)
    throw new InvalidInputException('Email is only for TokenType ApiToken')
  if (t !== 'OAuth' && (input.refreshToken !== undefined || input.expiresIn !== undefined))
    throw new InvalidInputException('RefreshToken and ExpiresIn are only for TokenType OAuth')
  const c: ProviderCredentials =
    t === 'OAuth'
      ? { kind: 'oauth', accessToken: input.accessToken }
      : t === 'ApiToken'
        ? { kind: 'api-token', accessToken: input.accessToken, email: input.email! }
        : {
            kind: 'access-token',
            level:
              t === 'RepositoryAccessToken'
                ? 'repository'
                : t === 'ProjectAccessToken'
                  ? 'project'
                  : 'workspace',
            accessToken: input.accessToken,
          }
  if (reach.project || reach.repository) c.reach = reach
  if (input.refreshToken) c.refreshToken = input.refreshToken
  if (input.expiresIn !== undefined) c.expiresAt = now + input.expiresIn * 1000
  return c
}

const str = (v: unknown) => (v === undefined ? undefined : (v as string))

export const bitbucketCompletion: CompletionSpec = {
  fields: {
    Workspace: { type: 'string', required: true, max: 100, pattern: /^[A-Za-z0-9_.-]+$/ },
    AccessToken: { type: 'string', required: true, max: 4096 },
    TokenType: { type: 'string', max: 32, enum: TOKEN_TYPES },
    RefreshToken: { type: 'string', max: 4096 },
    ExpiresIn: { type: 'integer', min: 60, max: 10 * 365 * 86400 },
    Project: { type: 'string', max: 64, pattern: /^[A-Za-z0-9_]+$/ },
    Repository: { type: 'string', max: 230, pattern: /^([A-Za-z0-9_.-]+\/)?[A-Za-z0-9_.-]+$/ },
    Email: { type: 'string', max: 320, pattern: /^[^@\s]+@[^@\s]+$/ },
  },
  parse(i, now): CompletionRequest {
    const input: BitbucketCompletion = {
      workspace: str(i['Workspace']) ?? '',
      accessToken: str(i['AccessToken']) ?? '',
      tokenType: (i['TokenType'] as TokenType | undefined) ?? 'WorkspaceAccessToken',
    }
    if (!input.workspace) throw new InvalidInputException('Give Workspace: the workspace slug')
    if (!input.accessToken) throw new InvalidInputException('Give AccessToken')
    if (i['RefreshToken'] !== undefined) input.refreshToken = str(i['RefreshToken'])!
    if (i['ExpiresIn'] !== undefined) input.expiresIn = i['ExpiresIn'] as number
    if (i['Project'] !== undefined) input.project = str(i['Project'])!
    if (i['Repository'] !== undefined) input.repository = str(i['Repository'])!
    if (i['Email'] !== undefined) input.email = str(i['Email'])!
    const credentials = bitbucketCredential(input, now)
    return {
      target: input.workspace,
      credentials,
      credentialKind: CREDENTIAL_KINDS[input.tokenType],
      // A user's token reaching the whole workspace needs its administrator.
      ...((credentials.kind === 'oauth' || credentials.kind === 'api-token') && !credentials.reach
        ? {
            administratorRequired: `Completing with all of workspace ${input.workspace} needs its administrator; the token's user is a member only (name a Project or Repository to reach only that)`,
          }
        : {}),
    }
  },
  credentialType: (kind) =>
    TOKEN_TYPES.find((t) => CREDENTIAL_KINDS[t] === kind) ?? 'WorkspaceAccessToken',
  cli: bitbucketCli,
}
