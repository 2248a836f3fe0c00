/**
 * @module cli/audit
 * `junction audit export [--since T] [--until T]`: the audit trail as JSON lines, one CloudTrail
 * record per line (newest first), read page by page through CloudTrail's LookupEvents on a running
 * server with the caller's credentials (the root, or a user allowed `cloudtrail:LookupEvents`).
 */
import { parseArgs } from 'node:util'
import { cloudtrailMetadata } from '../generated/cloudtrail.js'
import { signRequest } from '../protocol/sigv4/sign.js'
import {
  ApiCallError,
  CliError,
  clientOptions,
  CLIENT_FLAGS_HELP,
  endpointOf,
  loadCredentials,
} from './api-client.js'

export const AUDIT_USAGE = `Usage:
  junction audit export [--since <time>] [--until <time>] [--event-name <name>] [client flags]

export  Prints the audit trail as JSON lines, one CloudTrail record per line, newest first
        (through CloudTrail's LookupEvents: the caller needs cloudtrail:LookupEvents).
        <time> is an ISO 8601 date or time (2026-12-01, 2026-12-01T10:00:00Z) or an age such as
        30m, 12h or 7d; --since defaults to the whole retention, --until to now.

Client flags:
${CLIENT_FLAGS_HELP}
`

/** An ISO 8601 time or an age (`90s`, `30m`, `12h`, `7d`) as epoch seconds. */
export function parseTime(flag: string, v: string, now = Date.now()): number {
  const age = /^(\d+)([smhd])$/.exec(v)
  if (age) {
    const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[age[2] as 's' | 'm' | 'h' | 'd']
    return Math.floor(now / 1000) - Number(age[1]) * unit
  }
  const t = /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : Number.NaN
  if (Number.isNaN(t))
    throw new CliError(`--${flag} must be an ISO 8601 time or an age like 12h or 7d, got '${v}'`)
  return t / 1000
}

export async function audit(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...clientOptions,
      since: { type: 'string' },
      until: { type: 'string' },
      'event-name': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  })
  if (values.help || positionals.length === 0) {
    process.stdout.write(AUDIT_USAGE)
    return values.help ? 0 : 2
  }
  if (positionals[0] !== 'export' || positionals.length > 1)
    throw new CliError(`unknown command 'audit ${positionals.join(' ')}'\n\n${AUDIT_USAGE}`)
  const base: Record<string, unknown> = { MaxResults: 50 }
  if (values.since) base['StartTime'] = parseTime('since', values.since)
  if (values.until) base['EndTime'] = parseTime('until', values.until)
  if (values['event-name'])
    base['LookupAttributes'] = [{ AttributeKey: 'EventName', AttributeValue: values['event-name'] }]
  const endpoint = endpointOf(values)
  let url: URL
  try {
    url = new URL('/', endpoint)
  } catch {
    throw new CliError(`--endpoint-url is not a URL: '${endpoint}'`)
  }
  const credentials = loadCredentials(values)
  const region = values.region ?? process.env['AWS_REGION'] ?? 'us-east-1'
  let token: string | undefined
  do {
    const body = JSON.stringify(token ? { ...base, NextToken: token } : base)
    const headers = signRequest(
      url,
      body,
      {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `${cloudtrailMetadata.shortTargetPrefix}.LookupEvents`,
        'user-agent': 'junction-cli audit',
      },
      credentials,
      cloudtrailMetadata.signingName,
      region,
    )
    let res: Response
    try {
      res = await fetch(url, { method: 'POST', headers, body })
    } catch {
      throw new ApiCallError(`Could not reach Junction at ${url.origin}`)
    }
    const text = await res.text()
    let parsed: { Events?: { CloudTrailEvent?: string }[]; NextToken?: string } & Record<
      string,
      unknown
    >
    try {
      parsed = JSON.parse(text) as typeof parsed
    } catch {
      throw new ApiCallError(
        `${url.origin} answered HTTP ${res.status} without JSON: is it Junction?`,
      )
    }
    if (!res.ok)
      throw new ApiCallError(
        `${String(parsed['__type'] ?? `HTTP ${res.status}`)
          .split('#')
          .pop()}: ${String(parsed['Message'] ?? parsed['message'] ?? '')}`,
      )
    for (const e of parsed.Events ?? [])
      if (e.CloudTrailEvent) process.stdout.write(`${e.CloudTrailEvent}\n`)
    token = parsed.NextToken
  } while (token)
  return 0
}
