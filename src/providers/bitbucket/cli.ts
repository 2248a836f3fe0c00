/**
 * @module providers/bitbucket/cli
 * `junction connections complete` for Bitbucket: `--workspace`, the token kind and what narrows
 * it, turned into `CompleteConnection`'s members (see completion.ts).
 */
import type { CompletionCli } from '../descriptor.js'

/** `--token-type` names and the `TokenType` each sends. */
const TOKEN_TYPES: Record<string, string> = {
  workspace: 'WorkspaceAccessToken',
  project: 'ProjectAccessToken',
  repository: 'RepositoryAccessToken',
  'api-token': 'ApiToken',
  oauth: 'OAuth',
}

const str = (v: string | boolean | undefined) => (typeof v === 'string' ? v : undefined)

export const bitbucketCli: CompletionCli = {
  usage: `  junction connections complete --connection-arn <arn> --workspace <slug>
      [--token-type workspace|project|repository|api-token|oauth] [--project <KEY>]
      [--repository <slug>] [--email <atlassian-account-email>]
      [--token-file <file> | --token-env <VAR>] [--refresh-token-file <file>] [client flags]`,
  help: `complete   Verifies a Bitbucket token against Bitbucket and makes the connection AVAILABLE.
           --token-type: a workspace access token (the default), a project access token (with
           --project), a repository access token (with --repository), a user's Atlassian API
           token with Bitbucket scopes (with --email), or a user's OAuth access token (--oauth
           is the same as --token-type oauth; --refresh-token-file adds its refresh token).
           --project or --repository also narrow a broader token to that project or
           repository. The token is read from --token-file, from the variable named by
           --token-env, or from standard input; it is never taken on the command line (where
           ps would show it).`,
  options: {
    workspace: { type: 'string' },
    oauth: { type: 'boolean' },
    'token-type': { type: 'string' },
    project: { type: 'string' },
    repository: { type: 'string' },
    email: { type: 'string' },
    'refresh-token-file': { type: 'string' },
  },
  tokenMember: 'AccessToken',
  input(values, tools) {
    const workspace = str(values['workspace'])
    if (!workspace) throw tools.usage('--workspace is required')
    const oauth = values['oauth'] === true
    const named = str(values['token-type']) ?? (oauth ? 'oauth' : 'workspace')
    const tokenType = TOKEN_TYPES[named]
    if (!tokenType || (oauth && tokenType !== 'OAuth'))
      throw tools.usage(
        `--token-type must be one of ${Object.keys(TOKEN_TYPES).join(', ')}${oauth ? ' (--oauth means oauth)' : ''}`,
      )
    const input: Record<string, unknown> = { Workspace: workspace, TokenType: tokenType }
    const project = str(values['project'])
    const repository = str(values['repository'])
    const email = str(values['email'])
    const refresh = str(values['refresh-token-file'])
    if (project) input['Project'] = project
    if (repository) input['Repository'] = repository
    if (email) input['Email'] = email
    if (refresh) input['RefreshToken'] = tools.secret(refresh, 'refresh token')
    return input
  },
  summary(i) {
    const reach = i['Repository']
      ? `repository ${String(i['Repository'])}`
      : i['Project']
        ? `workspace ${String(i['Workspace'])}, project ${String(i['Project'])}`
        : `workspace ${String(i['Workspace'])}`
    return `${reach}, installation ${String(i['InstallationId'])}`
  },
}
