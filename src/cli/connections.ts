/**
 * @module cli/connections
 * `junction connections complete` (completion without a browser) and `junction connections
 * handshake` (print the start link of a browser handshake), over the signed API.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import type { ProviderDescriptor } from '../providers/descriptor.js'
import { PROVIDERS } from '../providers/registry.js'
import { callJunction, CliError, clientOptions, CLIENT_FLAGS_HELP } from './api-client.js'

export const CONNECTIONS_USAGE = `Usage:
${PROVIDERS.map((p) => p.completion.cli.usage).join('\n')}
  junction connections handshake --connection-arn <arn> [client flags]

${PROVIDERS.map((p) => p.completion.cli.help).join('\n')}
handshake  Prints the start link of a browser handshake for a PENDING or ERROR connection; open
           it in your own browser (it leads to the provider's consent), grant access and choose
           the workspace. The first browser that opens the link is the only one that can finish
           the handshake: do not forward it.

Client flags:
${CLIENT_FLAGS_HELP}
`

/** Every provider's own flags of `complete` (providers/<name>/cli.ts). */
const PROVIDER_OPTIONS = Object.assign(
  {},
  ...PROVIDERS.map((p) => p.completion.cli.options),
) as Record<string, { type: 'string' | 'boolean' }>

/**
 * The provider whose flags were given (the only one when Junction knows one). Flags several
 * providers share (`--token-type`, `--repository`) do not decide: one only that provider has
 * (`--namespace`, `--workspace`) does.
 */
function providerOf(values: Record<string, unknown>): ProviderDescriptor {
  const given = PROVIDERS.filter((p) =>
    Object.keys(p.completion.cli.options).some((f) => values[f] !== undefined),
  )
  if (given.length === 1) return given[0]!
  const own = (p: ProviderDescriptor, f: string) =>
    PROVIDERS.every((q) => q === p || !(f in q.completion.cli.options))
  const distinct = given.filter((p) =>
    Object.keys(p.completion.cli.options).some((f) => values[f] !== undefined && own(p, f)),
  )
  if (distinct.length === 1) return distinct[0]!
  if (PROVIDERS.length === 1) return PROVIDERS[0]!
  throw new CliError(
    `Give the flags of one provider: ${PROVIDERS.map(
      (p) =>
        `${p.label} (${Object.keys(p.completion.cli.options)
          .map((f) => `--${f}`)
          .join(', ')})`,
    ).join('; ')}`,
  )
}

export function readSecret(
  file: string | undefined,
  envName: string | undefined,
  what: string,
): string {
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
      'token-file': { type: 'string' },
      'token-env': { type: 'string' },
      ...PROVIDER_OPTIONS,
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
  const provider = providerOf(values)
  const cli = provider.completion.cli
  const own = cli.input(values as Record<string, string | boolean | undefined>, {
    usage: (message) => new CliError(message),
    secret: (file, what) => readSecret(file, undefined, what),
  })
  const input: Record<string, unknown> = {
    ConnectionArn: arn,
    ...own,
    ...(cli.needsToken?.(values as Record<string, string | boolean | undefined>) === false
      ? {}
      : { [cli.tokenMember]: readSecret(values['token-file'], values['token-env'], 'token') }),
  }
  const r = await callJunction<{
    Connection: { ConnectionName: string; ConnectionStatus: string }
    Installation: Record<string, unknown>
  }>(values, 'CompleteConnection', input, arn)
  process.stdout.write(
    `${r.Connection.ConnectionName} is ${r.Connection.ConnectionStatus} (${cli.summary(r.Installation)})\n`,
  )
  return 0
}
