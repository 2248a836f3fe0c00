/**
 * @module cli/explain
 * `junction iam explain`: asks a running Junction (SimulatePrincipalPolicy) how it decides an
 * action on a resource for a user or role, and prints every statement that matched or not, and
 * why. Signs with the root credentials of the data directory unless AWS_ACCESS_KEY_ID is set.
 */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { readCredentialsFile } from '../bootstrap/root-credentials.js'
import { defaults } from '../config.js'
import { signRequest, type SigningCredentials } from '../protocol/sigv4/sign.js'

export const EXPLAIN_USAGE = `Usage: junction iam explain --principal <user or role ARN> --action <action> [--action …]
                            [--resource <ARN>] [--context <key>=<value>[,<value>…] …]
                            [--endpoint-url <url>] [--data-dir <dir>] [--region <name>]

Shows how Junction decides each action on the resource for that principal: the decision, and for
every statement of every policy whether it matched and why (action, resource, each condition).
`

function unescape(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
}

/** The contents of each top-level `<tag>` element of `xml` (nesting of the same tag respected). */
function all(xml: string, tag: string): string[] {
  const open = `<${tag}>`
  const close = `</${tag}>`
  const out: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < xml.length;) {
    if (xml.startsWith(open, i)) {
      if (depth++ === 0) start = i + open.length
      i += open.length
    } else if (xml.startsWith(close, i)) {
      if (--depth === 0) out.push(xml.slice(start, i))
      i += close.length
    } else i++
  }
  return out
}

export async function explain(
  args: string[],
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      principal: { type: 'string' },
      action: { type: 'string', multiple: true },
      resource: { type: 'string' },
      context: { type: 'string', multiple: true },
      'endpoint-url': { type: 'string' },
      'data-dir': { type: 'string' },
      region: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help || !values.principal || !values.action?.length) {
    out.write(EXPLAIN_USAGE)
    return values.help ? 0 : 2
  }
  const endpoint = new URL(values['endpoint-url'] ?? `http://${defaults.host}:${defaults.port}`)
  const region = values.region ?? defaults.region
  let creds: SigningCredentials | undefined
  if (process.env['AWS_ACCESS_KEY_ID'] && process.env['AWS_SECRET_ACCESS_KEY'])
    creds = {
      accessKeyId: process.env['AWS_ACCESS_KEY_ID'],
      secretAccessKey: process.env['AWS_SECRET_ACCESS_KEY'],
      ...(process.env['AWS_SESSION_TOKEN']
        ? { sessionToken: process.env['AWS_SESSION_TOKEN'] }
        : {}),
    }
  else {
    const file = join(resolve(values['data-dir'] ?? defaults.dataDir), 'credentials')
    creds = existsSync(file) ? readCredentialsFile(file) : undefined
  }
  if (!creds)
    throw new Error(
      'no credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or pass --data-dir',
    )

  const params = new URLSearchParams({
    Action: 'SimulatePrincipalPolicy',
    Version: '2010-05-08',
    PolicySourceArn: values.principal,
  })
  values.action.forEach((a, i) => params.set(`ActionNames.member.${i + 1}`, a))
  if (values.resource) params.set('ResourceArns.member.1', values.resource)
  ;(values.context ?? []).forEach((entry, i) => {
    const eq = entry.indexOf('=')
    if (eq <= 0) throw new Error(`--context must be key=value, got '${entry}'`)
    params.set(`ContextEntries.member.${i + 1}.ContextKeyName`, entry.slice(0, eq))
    params.set(`ContextEntries.member.${i + 1}.ContextKeyType`, 'stringList')
    entry
      .slice(eq + 1)
      .split(',')
      .forEach((v, j) =>
        params.set(`ContextEntries.member.${i + 1}.ContextKeyValues.member.${j + 1}`, v),
      )
  })
  const body = params.toString()
  const headers = signRequest(
    endpoint,
    body,
    { 'content-type': 'application/x-www-form-urlencoded' },
    creds,
    'iam',
    region,
  )
  const { host: _host, ...send } = headers
  const res = await fetch(new URL('/', endpoint), { method: 'POST', headers: send, body })
  const text = await res.text()
  if (!res.ok) {
    const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? String(res.status)
    out.write(`${code}: ${unescape(/<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? text)}\n`)
    return 1
  }
  for (const result of all(all(text, 'EvaluationResults')[0] ?? '', 'member').filter((m) =>
    m.includes('<EvalActionName>'),
  )) {
    const action = /<EvalActionName>([^<]*)</.exec(result)?.[1]
    const resource = /<EvalResourceName>([^<]*)</.exec(result)?.[1]
    const decision = /<EvalDecision>([^<]*)</.exec(result)?.[1]
    out.write(`${action} on ${resource}: ${decision}\n`)
    const explanation = all(result, 'JunctionExplanation')[0] ?? ''
    const lines = all(explanation, 'member').map(unescape)
    if (lines.length === 0) out.write('  (the principal has no policies)\n')
    for (const line of lines) out.write(`  ${line}\n`)
    const missing = all(all(result, 'MissingContextValues')[0] ?? '', 'member')
    if (missing.length)
      out.write(`  context keys the policies read but the request lacks: ${missing.join(', ')}\n`)
  }
  // The principal's real ARN (its path included), which may differ from what --principal said.
  const principal = /<JunctionPrincipalArn>([^<]*)</.exec(text)?.[1]
  if (principal) out.write(`(decided for ${unescape(principal)})\n`)
  return 0
}
