/**
 * @module cli/hosts
 * `junction hosts setup`: sets up a host so connections on it can complete. A GitLab self-managed
 * host is set up at once with an administrator's token (`SetUpHost`; the token is read from a
 * file, a variable or standard input, never a flag, and Junction does not keep it); a GitHub
 * Enterprise Server host gets a one-time link that registers Junction's GitHub App there from a
 * manifest in the browser (`StartGitHubAppRegistration`, as `junction github app create`).
 */
import { parseArgs } from 'node:util'
import { callJunction, CliError, CLIENT_FLAGS_HELP } from './api-client.js'
import { readSecret } from './connections.js'
import { options, printLink } from './github.js'

export const HOSTS_USAGE = `Usage:
  junction hosts setup --host-arn <arn> (--token-file <file> | --token-env <VAR> | --token-stdin) [client flags]
  junction hosts setup --host-arn <arn> [--org <organization>] [--name <app name>] [client flags]

Sets up a host (CreateHost) so that connections on it can complete; only the account root may.

GitLab self-managed: give an administrator's personal access token with the api scope (and
admin_mode where the server has Admin Mode on). Junction uses it once to register its OAuth
application on the server, keeps only the application's id and secret (sealed), drops the token,
and the host becomes AVAILABLE.
  --token-file <file>    Read the token from a file
  --token-env <VAR>      Read it from an environment variable
  --token-stdin          Read it from standard input

GitHub Enterprise Server: prints a one-time link (valid 10 minutes); open it in your browser,
confirm on the server, and Junction stores the GitHub App it registered there for that host.
  --org <organization>   Register the app for this organization on the server
  --name <app name>      The app's name on the server (at most 34 characters)

  --host-arn <arn>       The host

Client flags:
${CLIENT_FLAGS_HELP}
`

/** `junction hosts …` */
export async function hosts(args: string[]): Promise<number> {
  const [sub, ...rest] = args
  if (sub !== 'setup') {
    const asked = sub === undefined || sub === '--help' || sub === 'help' || sub === '-h'
    process.stderr.write(
      asked ? HOSTS_USAGE : `junction: unknown command 'hosts ${sub}'\n\n${HOSTS_USAGE}`,
    )
    return asked ? 0 : 2
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      ...options,
      'host-arn': { type: 'string' },
      'token-file': { type: 'string' },
      'token-env': { type: 'string' },
      'token-stdin': { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  })
  if (values.help) {
    process.stdout.write(HOSTS_USAGE)
    return 0
  }
  const arn = values['host-arn']
  if (!arn) throw new CliError('--host-arn is required')
  const byToken =
    values['token-file'] !== undefined ||
    values['token-env'] !== undefined ||
    values['token-stdin'] === true
  if (!byToken) return printLink(values, { HostArn: arn }, arn)
  if (values['org'] !== undefined || values['name'] !== undefined)
    throw new CliError('--org and --name are for GitHub Enterprise Server hosts, not with a token')
  const token = readSecret(values['token-file'], values['token-env'], 'token')
  const r = await callJunction<{ HostArn: string; Status: string; ClientId: string }>(
    values,
    'SetUpHost',
    { HostArn: arn, AdminToken: token },
    arn,
  )
  process.stdout.write(
    `Host ${r.HostArn} is ${r.Status}: Junction registered its OAuth application (client id ${r.ClientId}); the token was not kept.\n`,
  )
  return 0
}
