/**
 * @module cli/github
 * `junction github app create` and `junction hosts setup`: the one-time link that registers
 * Junction's GitHub App from a manifest (connect/github-manifest), on github.com or on a GitHub
 * Enterprise Server host. The manifest must be POSTed by a browser, so the command prints a link
 * to a Junction page that does it, as `junction connections handshake` does for consent.
 */
import { parseArgs } from 'node:util'
import { callJunction, CliError, clientOptions, CLIENT_FLAGS_HELP } from './api-client.js'

export const GITHUB_USAGE = `Usage:
  junction github app create [--org <organization>] [--name <app name>] [client flags]

Prints a one-time link (valid 10 minutes) that registers Junction's GitHub App on github.com (or
the GitHub endpoint junction serve was given) from a manifest: open it in your browser, confirm on
GitHub, and Junction stores the app (its private key, client secret and webhook secret sealed).
Only the account root may do it.
  --org <organization>   Register the app for this organization instead of your GitHub user
  --name <app name>      The app's name on GitHub (unique there, at most 34 characters)

Client flags:
${CLIENT_FLAGS_HELP}
`

export const HOSTS_USAGE = `Usage:
  junction hosts setup --host-arn <arn> [--org <organization>] [--name <app name>] [client flags]

Prints a one-time link (valid 10 minutes) that sets up a GitHub Enterprise Server host: open it in
your browser, confirm on the server, and Junction stores the app it registered there for that host
and moves the host from PENDING to AVAILABLE. Only the account root may do it.
  --host-arn <arn>       The host (CreateHost with ProviderType GitHubEnterpriseServer)
  --org <organization>   Register the app for this organization on the server
  --name <app name>      The app's name on the server (at most 34 characters)

Client flags:
${CLIENT_FLAGS_HELP}
`

const options = {
  ...clientOptions,
  org: { type: 'string' },
  name: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

async function printLink(
  values: Record<string, string | boolean | undefined>,
  input: Record<string, unknown>,
  arn: string,
): Promise<number> {
  const r = await callJunction<{ Url: string; ExpiresAt: number }>(
    values,
    'StartGitHubAppRegistration',
    {
      ...input,
      ...(values['org'] !== undefined ? { Organization: values['org'] } : {}),
      ...(values['name'] !== undefined ? { Name: values['name'] } : {}),
    },
    arn,
  )
  process.stdout.write(`${r.Url}\n`)
  process.stderr.write(
    `Open the link in your own browser within 10 minutes (until ${new Date(r.ExpiresAt * 1000).toISOString()}); it opens once, and only that browser can finish the registration: do not forward it.\n`,
  )
  return 0
}

/** `junction github …` */
export async function github(args: string[]): Promise<number> {
  const [what, sub, ...rest] = args
  if (what !== 'app' || sub !== 'create') {
    const asked = what === undefined || what === '--help' || what === 'help' || what === '-h'
    process.stderr.write(
      asked
        ? GITHUB_USAGE
        : `junction: unknown command 'github ${args.slice(0, 2).join(' ')}'\n\n${GITHUB_USAGE}`,
    )
    return asked ? 0 : 2
  }
  const { values } = parseArgs({ args: rest, options, strict: true, allowPositionals: false })
  if (values.help) {
    process.stdout.write(GITHUB_USAGE)
    return 0
  }
  return printLink(values, {}, '')
}

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
    options: { ...options, 'host-arn': { type: 'string' } },
    strict: true,
    allowPositionals: false,
  })
  if (values.help) {
    process.stdout.write(HOSTS_USAGE)
    return 0
  }
  const arn = values['host-arn']
  if (!arn) throw new CliError('--host-arn is required')
  return printLink(values, { HostArn: arn }, arn)
}
