/**
 * @module providers/gitlab/cli
 * `junction connections complete` for GitLab: `--namespace`, the token kind and the project that
 * narrows it, turned into `CompleteConnection`'s members (see completion.ts).
 */
import type { CompletionCli } from '../descriptor.js'

/** `--token-type` names and the `TokenType` each sends. */
const TOKEN_TYPES: Record<string, string> = {
  personal: 'PersonalAccessToken',
  group: 'GroupAccessToken',
  project: 'ProjectAccessToken',
  oauth: 'OAuth',
}

const str = (v: string | boolean | undefined) => (typeof v === 'string' ? v : undefined)

export const gitlabCli: CompletionCli = {
  usage: `  junction connections complete --connection-arn <arn> --namespace <group/path>
      [--token-type personal|group|project|oauth] [--repository <project-path>]
      [--token-file <file> | --token-env <VAR>] [--refresh-token-file <file>] [client flags]`,
  help: `complete   GitLab: verifies a GitLab token with the instance and makes the connection
           AVAILABLE. --namespace is a group's full path (acme/platform) or your username.
           --token-type: a personal access token (the default; its user needs at least
           Maintainer on the namespace), a group access token, a project access token (with
           --repository), or a user's OAuth access token (--oauth is the same as --token-type
           oauth; --refresh-token-file adds its refresh token). Tokens need the api scope.
           --repository (the project's path below the namespace) narrows any token to that
           project. The token is read from --token-file, --token-env or standard input.`,
  options: {
    namespace: { type: 'string' },
    oauth: { type: 'boolean' },
    'token-type': { type: 'string' },
    repository: { type: 'string' },
    'refresh-token-file': { type: 'string' },
  },
  tokenMember: 'AccessToken',
  input(values, tools) {
    const namespace = str(values['namespace'])
    if (!namespace) throw tools.usage('--namespace is required')
    const oauth = values['oauth'] === true
    const named = str(values['token-type']) ?? (oauth ? 'oauth' : 'personal')
    const tokenType = TOKEN_TYPES[named]
    if (!tokenType || (oauth && tokenType !== 'OAuth'))
      throw tools.usage(
        `--token-type must be one of ${Object.keys(TOKEN_TYPES).join(', ')}${oauth ? ' (--oauth means oauth)' : ''}`,
      )
    const input: Record<string, unknown> = { Workspace: namespace, TokenType: tokenType }
    const repository = str(values['repository'])
    const refresh = str(values['refresh-token-file'])
    if (repository) input['Repository'] = repository
    if (refresh) input['RefreshToken'] = tools.secret(refresh, 'refresh token')
    return input
  },
  summary(i) {
    const reach = i['Repository']
      ? `project ${String(i['Repository'])}`
      : `namespace ${String(i['Workspace'])}`
    return `GitLab ${reach}, installation ${String(i['InstallationId'])}`
  },
}
