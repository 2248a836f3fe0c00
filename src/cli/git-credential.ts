/**
 * @module cli/git-credential
 * `junction git-credential`: a Git credential helper that answers `get` with short-lived clone
 * credentials of a connection, so `git clone https://bitbucket.org/<workspace>/<repo>.git` works
 * through a connection ARN. Configure it with:
 *   git config credential.https://bitbucket.org.helper '!junction git-credential --connection-arn <arn>'
 *   git config credential.https://bitbucket.org.useHttpPath true
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { callJunction, CliError, clientOptions, CLIENT_FLAGS_HELP } from './api-client.js'

export const GIT_CREDENTIAL_USAGE = `Usage: junction git-credential --connection-arn <arn> [client flags] get

A Git credential helper. Git runs it with 'get' and the request on standard input; it answers
with a username and password for the repository, from the connection (GetCloneCredentials:
needs UseConnection with ProviderAction GitPull, and GetConnectionToken). 'store' and 'erase'
are accepted and do nothing.

  git config credential.https://bitbucket.org.helper '!junction git-credential --connection-arn <arn>'
  git config credential.https://bitbucket.org.useHttpPath true

Client flags:
${CLIENT_FLAGS_HELP}
`

export async function gitCredential(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...clientOptions,
      'connection-arn': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  })
  if (values.help) {
    process.stdout.write(GIT_CREDENTIAL_USAGE)
    return 0
  }
  const action = positionals.at(-1)
  if (action === 'store' || action === 'erase') return 0
  if (action !== 'get')
    throw new CliError(`expected 'get', 'store' or 'erase', got '${action ?? ''}'`)
  const arn = values['connection-arn'] ?? process.env['JUNCTION_CONNECTION_ARN']
  if (!arn) throw new CliError('--connection-arn is required')
  const request = new Map<string, string>()
  for (const line of readFileSync(0, 'utf8').split('\n')) {
    const i = line.indexOf('=')
    if (i > 0) request.set(line.slice(0, i), line.slice(i + 1))
  }
  const path = (request.get('path') ?? '').replace(/\.git$/, '').replace(/^\/+|\/+$/g, '')
  if (!/^[^/]+\/[^/]+$/.test(path))
    throw new CliError(
      "git sent no repository path: set 'git config credential.useHttpPath true' for this host",
    )
  const r = await callJunction<{ Username: string; Password: string; ExpiresAt?: number }>(
    values,
    'GetCloneCredentials',
    { ConnectionArn: arn, FullRepositoryId: path },
    arn,
  )
  let out = `username=${r.Username}\npassword=${r.Password}\n`
  if (r.ExpiresAt) out += `password_expiry_utc=${r.ExpiresAt}\n`
  process.stdout.write(out)
  return 0
}
