/**
 * @module cli/explain
 * `junction iam explain`: asks a running Junction (its own ExplainPrincipalPolicy, the decisions
 * of IAM's SimulatePrincipalPolicy with an explanation) how it decides an action on a resource for
 * a user or role, and prints every statement that matched or not, and why. Signs with the root
 * credentials of the data directory unless AWS_ACCESS_KEY_ID is set.
 */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { readCredentialsFile } from '../bootstrap/root-credentials.js'
import { defaults } from '../config.js'
import { signRequest, type SigningCredentials } from '../protocol/sigv4/sign.js'
import { EXTENSION_TARGET_PREFIX } from '../server/extension.js'

export const EXPLAIN_USAGE = `Usage: junction iam explain --principal <user or role ARN> --action <action> [--action …]
                            [--resource <ARN>] [--context <key>=<value>[,<value>…] …]
                            [--endpoint-url <url>] [--data-dir <dir>] [--region <name>]

Shows how Junction decides each action on the resource for that principal: the decision, and for
every statement of every policy whether it matched and why (action, resource, each condition).
`

/** Junction's ExplainPrincipalPolicy answer. */
interface Explained {
  PrincipalArn: string
  EvaluationResults: {
    EvalActionName: string
    EvalResourceName: string
    EvalDecision: string
    MissingContextValues: string[]
    Explanation: string[]
  }[]
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

  const context: Record<string, string[]> = {}
  for (const entry of values.context ?? []) {
    const eq = entry.indexOf('=')
    if (eq <= 0) throw new Error(`--context must be key=value, got '${entry}'`)
    context[entry.slice(0, eq)] = entry.slice(eq + 1).split(',')
  }
  const body = JSON.stringify({
    PolicySourceArn: values.principal,
    ActionNames: values.action,
    ...(values.resource ? { ResourceArns: [values.resource] } : {}),
    Context: context,
  })
  const headers = signRequest(
    endpoint,
    body,
    {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `${EXTENSION_TARGET_PREFIX}.ExplainPrincipalPolicy`,
    },
    creds,
    'codestar-connections',
    region,
  )
  const { host: _host, ...send } = headers
  const res = await fetch(new URL('/', endpoint), { method: 'POST', headers: send, body })
  const text = await res.text()
  let answer: Explained & { __type?: string; Message?: string }
  try {
    answer = JSON.parse(text) as typeof answer
  } catch {
    out.write(`${res.status}: ${text}\n`)
    return 1
  }
  if (!res.ok) {
    out.write(`${answer.__type ?? res.status}: ${answer.Message ?? text}\n`)
    return 1
  }
  for (const result of answer.EvaluationResults) {
    out.write(`${result.EvalActionName} on ${result.EvalResourceName}: ${result.EvalDecision}\n`)
    if (result.Explanation.length === 0) out.write('  (the principal has no policies)\n')
    for (const line of result.Explanation) out.write(`  ${line}\n`)
    if (result.MissingContextValues.length)
      out.write(
        `  context keys the policies read but the request lacks: ${result.MissingContextValues.join(', ')}\n`,
      )
  }
  // The principal's real ARN (its path included), which may differ from what --principal said.
  out.write(`(decided for ${answer.PrincipalArn})\n`)
  return 0
}
