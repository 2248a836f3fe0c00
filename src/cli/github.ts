/**
 * @module cli/github
 * `junction github app create`: the one-time link that registers Junction's GitHub App from a
 * manifest (connect/github-manifest) on github.com (`junction hosts setup` uses it for a GitHub
 * Enterprise Server host, cli/hosts.ts). The manifest must be POSTed by a browser, so the command prints a link
 * to a Junction page that does it, as `junction connections handshake` does for consent.
 */
import { parseArgs } from 'node:util'
import { callJunction, clientOptions, CLIENT_FLAGS_HELP } from './api-client.js'

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

export const options = {
  ...clientOptions,
  org: { type: 'string' },
  name: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

export async function printLink(
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
