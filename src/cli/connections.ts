/**
 * @module cli/connections
 * `junction connections complete` (completion without a browser) and `junction connections
 * handshake` (print the start link of a browser handshake), over the signed API.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { callJunction, CliError, clientOptions, CLIENT_FLAGS_HELP } from './api-client.js'

export const CONNECTIONS_USAGE = `Usage:
  junction connections complete --connection-arn <arn> --workspace <slug>
      [--token-type workspace|project|repository|api-token|oauth] [--project <KEY>]
      [--repository <slug>] [--email <atlassian-account-email>]
      [--token-file <file> | --token-env <VAR>] [--refresh-token-file <file>] [client flags]
  junction connections handshake --connection-arn <arn> [client flags]

complete   Verifies a Bitbucket token against Bitbucket and makes the connection AVAILABLE.
           --token-type: a workspace access token (the default), a project access token (with
           --project), a repository access token (with --repository), a user's Atlassian API
           token with Bitbucket scopes (with --email), or a user's OAuth access token (--oauth
           is the same as --token-type oauth; --refresh-token-file adds its refresh token).
           --project or --repository also narrow a broader token to that project or
           repository. The token is read from --token-file, from the variable named by
           --token-env, or from standard input; it is never taken on the command line (where
           ps would show it).
handshake  Prints the start link of a browser handshake for a PENDING or ERROR connection; open
           it in your own browser (it leads to the provider's consent), grant access and choose
           the workspace. The first browser that opens the link is the only one that can finish
           the handshake: do not forward it.

Client flags:
${CLIENT_FLAGS_HELP}
`

/** `--token-type` names and the `TokenType` each sends. */
const TOKEN_TYPES: Record<string, string> = {
  workspace: 'WorkspaceAccessToken',
  project: 'ProjectAccessToken',
  repository: 'RepositoryAccessToken',
  'api-token': 'ApiToken',
  oauth: 'OAuth',
}

function readSecret(file: string | undefined, envName: string | undefined, what: string): string {
  let v: string
  if (file) v = readFileSync(file, 'utf8')
  else if (envName) {
    const x = process.env[envName]
    if (!x) throw new CliError(`The variable ${envName} is empty or not set`)
    v = x
  } else {
    if (process.stdin.isTTY)
      throw new CliError(`Give the ${what} with --token-file, --token-env or on standard input`)
    v = readFileSync(0, 'utf8')
  }
  v = v.trim()
  if (!v) throw new CliError(`The ${what} is empty`)
  return v
}

export async function connections(args: string[]): Promise<number> {
  const [sub, ...rest] = args
  if (sub !== 'complete' && sub !== 'handshake') {
    process.stderr.write(
      sub && sub !== '--help' && sub !== 'help'
        ? `junction: unknown command 'connections ${sub}'\n\n${CONNECTIONS_USAGE}`
        : CONNECTIONS_USAGE,
    )
    return sub && sub !== '--help' && sub !== 'help' ? 2 : 0
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      ...clientOptions,
      'connection-arn': { type: 'string' },
      workspace: { type: 'string' },
      'token-file': { type: 'string' },
      'token-env': { type: 'string' },
      oauth: { type: 'boolean' },
      'token-type': { type: 'string' },
      project: { type: 'string' },
      repository: { type: 'string' },
      email: { type: 'string' },
      'refresh-token-file': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  })
  if (values.help) {
    process.stdout.write(CONNECTIONS_USAGE)
    return 0
  }
  const arn = values['connection-arn']
  if (!arn) throw new CliError('--connection-arn is required')
  if (sub === 'handshake') {
    const r = await callJunction<{ AuthorizationUrl: string; ExpiresAt: number }>(
      values,
      'StartOAuthHandshake',
      { ConnectionArn: arn },
      arn,
    )
    process.stdout.write(`${r.AuthorizationUrl}\n`)
    process.stderr.write(
      `Open the link in your own browser within 10 minutes (until ${new Date(r.ExpiresAt * 1000).toISOString()}); the first browser that opens it is the only one that can finish the handshake, so do not forward it.\n`,
    )
    return 0
  }
  if (!values.workspace) throw new CliError('--workspace is required')
  const named = values['token-type'] ?? (values.oauth ? 'oauth' : 'workspace')
  const tokenType = TOKEN_TYPES[named]
  if (!tokenType || (values.oauth && tokenType !== 'OAuth'))
    throw new CliError(
      `--token-type must be one of ${Object.keys(TOKEN_TYPES).join(', ')}${values.oauth ? ' (--oauth means oauth)' : ''}`,
    )
  const input: Record<string, unknown> = {
    ConnectionArn: arn,
    Workspace: values.workspace,
    AccessToken: readSecret(values['token-file'], values['token-env'], 'token'),
    TokenType: tokenType,
  }
  if (values.project) input['Project'] = values.project
  if (values.repository) input['Repository'] = values.repository
  if (values.email) input['Email'] = values.email
  if (values['refresh-token-file'])
    input['RefreshToken'] = readSecret(values['refresh-token-file'], undefined, 'refresh token')
  const r = await callJunction<{
    Connection: { ConnectionName: string; ConnectionStatus: string }
    Installation: {
      InstallationId: string
      Workspace: string
      Project?: string
      Repository?: string
    }
  }>(values, 'CompleteConnection', input, arn)
  const i = r.Installation
  const reach = i.Repository
    ? `repository ${i.Repository}`
    : i.Project
      ? `workspace ${i.Workspace}, project ${i.Project}`
      : `workspace ${i.Workspace}`
  process.stdout.write(
    `${r.Connection.ConnectionName} is ${r.Connection.ConnectionStatus} (${reach}, installation ${i.InstallationId})\n`,
  )
  return 0
}
