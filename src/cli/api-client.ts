/**
 * @module cli/api-client
 * How Junction's own commands call a running server: credentials found the way the AWS CLI finds
 * them (environment, then the shared credentials file and profile), or `<data-dir>/credentials`,
 * a SigV4-signed AWS JSON request, and AWS-shaped errors turned into one readable line.
 */
import { existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { signRequest, type SigningCredentials } from '../protocol/sigv4/sign.js'
import { EXTENSION_TARGET_PREFIX } from '../server/extension.js'

export interface ClientFlags {
  'endpoint-url'?: string | undefined
  profile?: string | undefined
  'data-dir'?: string | undefined
  region?: string | undefined
}

export const CLIENT_FLAGS_HELP = `  --endpoint-url <url>   Junction's URL (default $JUNCTION_ENDPOINT, else endpoint_url of the AWS
                         config profile: <data-dir>/config, or $AWS_CONFIG_FILE and $AWS_PROFILE;
                         else http://127.0.0.1:4599)
  --profile <name>       Profile in the shared credentials file (default $AWS_PROFILE or default)
  --data-dir <dir>       Use <dir>/credentials (profile junction) written by junction serve
  --region <name>        Region to sign for (default: the ARN's region)`

export const clientOptions = {
  'endpoint-url': { type: 'string' },
  profile: { type: 'string' },
  'data-dir': { type: 'string' },
  region: { type: 'string' },
} as const

/** A usage or configuration problem (exit 2). */
export class CliError extends Error {}

/** The server refused the call or could not be reached (exit 1). */
export class ApiCallError extends Error {}

function parseIni(text: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>()
  let section: Map<string, string> | undefined
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (!line || line.startsWith('#') || line.startsWith(';')) continue
    const s = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line)
    if (s) {
      section = new Map()
      out.set(s[1]!, section)
      continue
    }
    const i = line.indexOf('=')
    if (section && i > 0) section.set(line.slice(0, i).trim(), line.slice(i + 1).trim())
  }
  return out
}

export function loadCredentials(
  flags: ClientFlags,
  env: NodeJS.ProcessEnv = process.env,
): SigningCredentials {
  if (flags['data-dir']) return fromFile(join(flags['data-dir'], 'credentials'), 'junction')
  if (!flags.profile && env['AWS_ACCESS_KEY_ID'] && env['AWS_SECRET_ACCESS_KEY']) {
    const c: SigningCredentials = {
      accessKeyId: env['AWS_ACCESS_KEY_ID'],
      secretAccessKey: env['AWS_SECRET_ACCESS_KEY'],
    }
    if (env['AWS_SESSION_TOKEN']) c.sessionToken = env['AWS_SESSION_TOKEN']
    return c
  }
  const file = env['AWS_SHARED_CREDENTIALS_FILE'] ?? join(homedir(), '.aws', 'credentials')
  return fromFile(file, flags.profile ?? env['AWS_PROFILE'] ?? 'default')
}

function fromFile(file: string, profile: string): SigningCredentials {
  if (!existsSync(file))
    throw new CliError(
      `No credentials: ${file} does not exist (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, --profile or --data-dir)`,
    )
  const p = parseIni(readFileSync(file, 'utf8')).get(profile)
  const id = p?.get('aws_access_key_id')
  const secret = p?.get('aws_secret_access_key')
  if (!id || !secret) throw new CliError(`No credentials for profile '${profile}' in ${file}`)
  const c: SigningCredentials = { accessKeyId: id, secretAccessKey: secret }
  const token = p?.get('aws_session_token')
  if (token) c.sessionToken = token
  return c
}

/**
 * Junction's URL: the flag, `JUNCTION_ENDPOINT`, then `endpoint_url` of the AWS config profile
 * `junction serve` writes (`<data-dir>/config` with --data-dir, else `$AWS_CONFIG_FILE` or
 * ~/.aws/config and the profile of --profile or `$AWS_PROFILE`), then the default.
 */
export function endpointOf(flags: ClientFlags, env: NodeJS.ProcessEnv = process.env): string {
  const given = flags['endpoint-url'] ?? env['JUNCTION_ENDPOINT']
  if (given) return given
  const [file, profile] = flags['data-dir']
    ? [join(flags['data-dir'], 'config'), 'junction']
    : [
        env['AWS_CONFIG_FILE'] ?? join(homedir(), '.aws', 'config'),
        flags.profile ?? env['AWS_PROFILE'],
      ]
  if (profile && existsSync(file)) {
    const url = parseIni(readFileSync(file, 'utf8')).get(profile)?.get('endpoint_url')
    if (url) return url
  }
  return 'http://127.0.0.1:4599'
}

/** Calls one of Junction's own operations for the resource `arn` and returns the parsed answer. */
export async function callJunction<T>(
  flags: ClientFlags,
  operation: string,
  input: Record<string, unknown>,
  arn: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<T> {
  const parts = arn.split(':')
  const service = parts[2] === 'codeconnections' ? 'codeconnections' : 'codestar-connections'
  const region = flags.region ?? parts[3] ?? 'us-east-1'
  const endpoint = endpointOf(flags, env)
  let url: URL
  try {
    url = new URL('/', endpoint)
  } catch {
    throw new CliError(`--endpoint-url is not a URL: '${endpoint}'`)
  }
  const body = JSON.stringify(input)
  const headers = signRequest(
    url,
    body,
    {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `${EXTENSION_TARGET_PREFIX}.${operation}`,
      // Names the command in the audit trail (`junction-cli git-credential` marks clone uses).
      'user-agent': `junction-cli ${process.argv[2] ?? ''}`.trim(),
    },
    loadCredentials(flags, env),
    service,
    region,
  )
  let res: Response
  try {
    res = await fetch(url, { method: 'POST', headers, body })
  } catch {
    throw new ApiCallError(`Could not reach Junction at ${url.origin}`)
  }
  const text = await res.text()
  let parsed: Record<string, unknown> = {}
  try {
    parsed = JSON.parse(text) as Record<string, unknown>
  } catch {
    // not JSON: reported below
  }
  if (!res.ok) {
    const code = String(
      parsed['__type'] ?? res.headers.get('x-amzn-errortype') ?? `HTTP ${res.status}`,
    )
      .split('#')
      .pop()
    throw new ApiCallError(
      `${code}: ${String(parsed['Message'] ?? parsed['message'] ?? text.slice(0, 300))}`,
    )
  }
  return parsed as T
}
