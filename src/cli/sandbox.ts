/**
 * @module cli/sandbox
 * `junction sandbox bitbucket`: runs the local Bitbucket stand-in and prints the `junction serve`
 * flags that wire Junction to it. `--seed` adds a demo user, workspace, repository and token.
 * `junction sandbox github` is in sandbox-github.ts.
 */
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { startBitbucketSandbox, type BitbucketSandbox } from '../sandbox/bitbucket/server.js'
import { CliError } from './api-client.js'
import { GITHUB_SANDBOX_USAGE, githubSandbox } from './sandbox-github.js'
import { GITLAB_SANDBOX_USAGE, gitlabSandbox } from './sandbox-gitlab.js'

export const SANDBOX_USAGE = `Usage: junction sandbox bitbucket [--host 127.0.0.1] [--port 7990] [--data-dir .junction-sandbox]
                                 [--junction-url http://127.0.0.1:4599] [--seed]

Runs a local Bitbucket Cloud stand-in: OAuth consent page and token endpoint, REST 2.0 under /2.0,
Git over HTTP (git http-backend), archives, signed webhooks, and an admin API under /_sandbox/.
It registers Junction's OAuth consumer (key 'junction') with the callback
<junction-url>/oauth/bitbucket/callback and prints the junction serve flags to use.
--seed creates user demo (password demo), workspace demo-team and repository demo-team/hello.
`

export interface Seeded {
  username: string
  password: string
  workspace: string
  repository: string
  workspaceToken: string
}

/** Creates the demo user, workspace, repository and a workspace access token (idempotent). */
export async function seedSandbox(sb: BitbucketSandbox): Promise<Seeded> {
  const post = async (path: string, body: unknown) => {
    const r = await fetch(`${sb.url}/_sandbox/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    const json = (await r.json()) as Record<string, unknown>
    if (!r.ok && r.status !== 409)
      throw new CliError(`seeding ${path} failed: ${JSON.stringify(json)}`)
    return json
  }
  await post('users', {
    username: 'demo',
    password: 'demo',
    displayName: 'Demo User',
    email: 'demo@example.com',
  })
  await post('workspaces', { slug: 'demo-team', name: 'Demo Team', admins: ['demo'] })
  await post('repositories', {
    workspace: 'demo-team',
    slug: 'hello',
    files: {
      'README.md': '# hello\n\nA repository in the Junction sandbox Bitbucket.\n',
      'src/hello.sh': '#!/bin/sh\necho "hello from the sandbox"\n',
    },
  })
  const existing = Object.entries(sb.state.data.tokens).find(
    ([, t]) => t.kind === 'workspace' && t.workspace === 'demo-team' && !t.revoked,
  )
  const workspaceToken = existing
    ? existing[0]
    : String((await post('access-tokens', { workspace: 'demo-team' }))['token'])
  return {
    username: 'demo',
    password: 'demo',
    workspace: 'demo-team',
    repository: 'demo-team/hello',
    workspaceToken,
  }
}

export async function startSandboxFromFlags(flags: {
  host?: string | undefined
  port?: string | undefined
  'data-dir'?: string | undefined
  'junction-url'?: string | undefined
}): Promise<BitbucketSandbox> {
  const port = Number(flags.port ?? '7990')
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new CliError(`--port must be 0–65535, got '${flags.port}'`)
  const junctionUrl = (flags['junction-url'] ?? 'http://127.0.0.1:4599').replace(/\/+$/, '')
  return startBitbucketSandbox({
    host: flags.host ?? '127.0.0.1',
    port,
    dataDir: resolve(flags['data-dir'] ?? '.junction-sandbox'),
    consumer: { key: 'junction', callbackUrl: `${junctionUrl}/oauth/bitbucket/callback` },
  })
}

export async function sandbox(args: string[]): Promise<number> {
  const [kind, ...rest] = args
  if (kind === 'github') return githubCommand(rest)
  if (kind === 'gitlab') return gitlabSandbox(rest)
  if (kind !== 'bitbucket') {
    process.stderr.write(`${SANDBOX_USAGE}\n${GITHUB_SANDBOX_USAGE}\n${GITLAB_SANDBOX_USAGE}`)
    return kind === undefined || kind === '--help' ? 0 : 2
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      'junction-url': { type: 'string' },
      seed: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  })
  if (values.help) {
    process.stdout.write(SANDBOX_USAGE)
    return 0
  }
  const sb = await startSandboxFromFlags(values)
  process.stdout.write(
    `Bitbucket sandbox at ${sb.url} (REST ${sb.apiUrl}, admin ${sb.url}/_sandbox)\n`,
  )
  if (values.seed) {
    const s = await seedSandbox(sb)
    process.stdout.write(
      `Seeded: user ${s.username} (password ${s.password}), workspace ${s.workspace}, repository ${s.repository}\n` +
        `Workspace access token for demo-team: ${s.workspaceToken}\n`,
    )
  }
  process.stdout.write(
    `\nStart Junction wired to it:\n  JUNCTION_BITBUCKET_CLIENT_SECRET=${sb.consumer!.secret} junction serve --bitbucket-url ${sb.url} --bitbucket-client-id ${sb.consumer!.key}\n`,
  )
  await new Promise<void>((resolveStop) => {
    const stop = () => void sb.close().then(resolveStop)
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  return 0
}

async function githubCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      'junction-url': { type: 'string' },
      enterprise: { type: 'boolean' },
      seed: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  })
  if (values.help) {
    process.stdout.write(GITHUB_SANDBOX_USAGE)
    return 0
  }
  return githubSandbox(values)
}
