/**
 * @module cli/sandbox-github
 * `junction sandbox github`: runs the local GitHub (or GitHub Enterprise Server) stand-in, makes
 * sure Junction's GitHub App exists in it (setup URL `<junction-url>/oauth/github/callback`,
 * webhook `<junction-url>/webhooks/github`; its private key kept in `<data-dir>/junction-app.pem`)
 * and prints the `junction serve` flags that wire Junction to it. `--seed` adds a demo user,
 * organization and repository.
 */
import { existsSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { startGitHubSandbox, type GitHubSandbox } from '../sandbox/github/server.js'
import { CliError } from './api-client.js'

export const GITHUB_SANDBOX_USAGE = `Usage: junction sandbox github [--host 127.0.0.1] [--port 7991] [--enterprise]
                              [--data-dir .junction-sandbox-github]
                              [--junction-url http://127.0.0.1:4599] [--seed]

Runs a local GitHub stand-in (docs/sandbox-github.md): the App manifest flow, app install pages,
app JWTs and installation tokens, the REST API (at the root; under /api/v3 with --enterprise, as
GitHub Enterprise Server), Git over HTTP with x-access-token, zipballs through a codeload
listener, signed app webhooks, and an admin API under /_sandbox/. It registers Junction's GitHub
App (setup URL <junction-url>/oauth/github/callback, webhook <junction-url>/webhooks/github) and
prints the junction serve flags to use.
--seed creates user demo (password demo), organization demo-team and repository demo-team/hello.
`

export interface GitHubSandboxApp {
  id: number
  slug: string
  clientId: string
  clientSecret: string
  webhookSecret: string
  privateKeyFile: string
}

async function post(sb: GitHubSandbox, path: string, body: unknown) {
  const r = await fetch(`${sb.url}/_sandbox/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const json = (await r.json()) as Record<string, unknown>
  if (!r.ok && r.status !== 422)
    throw new CliError(`sandbox ${path} failed: ${JSON.stringify(json)}`)
  return { ok: r.ok, json }
}

/** Junction's app in the sandbox (made once; its key file kept in the data directory). */
export async function ensureJunctionApp(
  sb: GitHubSandbox,
  dataDir: string,
  junctionUrl: string,
): Promise<GitHubSandboxApp> {
  const privateKeyFile = join(dataDir, 'junction-app.pem')
  let app = sb.state.data.apps.find((a) => a.slug === 'junction')
  if (!app || !existsSync(privateKeyFile)) {
    if (!sb.state.user('junction-admin'))
      await post(sb, 'users', { username: 'junction-admin', name: 'Junction administrator' })
    // An app without its key file on disk cannot be used: it is made again.
    if (app) {
      sb.state.data.apps = sb.state.data.apps.filter((a) => a !== app)
      sb.state.save()
    }
    const made = await post(sb, 'apps', {
      name: 'Junction',
      owner: 'junction-admin',
      public: true,
      url: junctionUrl,
      setupUrl: `${junctionUrl}/oauth/github/callback`,
      callbackUrls: [`${junctionUrl}/oauth/github/callback`],
      webhookUrl: `${junctionUrl}/webhooks/github`,
      webhookSecret: 'sandbox-webhook-secret',
      // Junction's handshake checks the installation with the installing user's authorization.
      requestOAuthOnInstall: true,
    })
    if (!made.ok)
      throw new CliError(`creating the sandbox app failed: ${JSON.stringify(made.json)}`)
    writeFileSync(privateKeyFile, String(made.json['privateKey']), { mode: 0o600 })
    app = sb.state.data.apps.find((a) => a.slug === 'junction')!
  }
  return {
    id: app.id,
    slug: app.slug,
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    webhookSecret: app.webhookSecret ?? '',
    privateKeyFile,
  }
}

/** The demo user, organization and repository (idempotent). */
export async function seedGitHubSandbox(sb: GitHubSandbox) {
  await post(sb, 'users', {
    username: 'demo',
    password: 'demo',
    name: 'Demo User',
    email: 'demo@example.com',
  })
  await post(sb, 'orgs', { login: 'demo-team', name: 'Demo Team', admins: ['demo'] })
  await post(sb, 'repositories', {
    owner: 'demo-team',
    name: 'hello',
    files: {
      'README.md': '# hello\n\nA repository in the Junction sandbox GitHub.\n',
      'src/hello.sh': '#!/bin/sh\necho "hello from the sandbox"\n',
    },
  })
  return {
    username: 'demo',
    password: 'demo',
    organization: 'demo-team',
    repository: 'demo-team/hello',
  }
}

export async function startGitHubSandboxFromFlags(flags: {
  host?: string | undefined
  port?: string | undefined
  'data-dir'?: string | undefined
  'junction-url'?: string | undefined
  enterprise?: boolean | undefined
}) {
  const port = Number(flags.port ?? '7991')
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new CliError(`--port must be 0–65535, got '${flags.port}'`)
  const junctionUrl = (flags['junction-url'] ?? 'http://127.0.0.1:4599').replace(/\/+$/, '')
  if (!/^https?:\/\//.test(junctionUrl)) throw new CliError('--junction-url must be an http(s) URL')
  const dataDir = resolve(flags['data-dir'] ?? '.junction-sandbox-github')
  const sb = await startGitHubSandbox({
    host: flags.host ?? '127.0.0.1',
    port,
    dataDir,
    enterprise: flags.enterprise ?? false,
  })
  const app = await ensureJunctionApp(sb, dataDir, junctionUrl)
  return { sb, app }
}

/** The `junction serve` line for a sandbox and its app. */
export function serveLine(sb: GitHubSandbox, app: GitHubSandboxApp): string {
  return (
    `JUNCTION_GITHUB_CLIENT_SECRET=${app.clientSecret} JUNCTION_GITHUB_WEBHOOK_SECRET=${app.webhookSecret} ` +
    `junction serve --github-url ${sb.url} --github-api-url ${sb.apiUrl} --github-app-id ${app.id} --github-app-slug ${app.slug} ` +
    `--github-client-id ${app.clientId} --github-private-key-file ${app.privateKeyFile}`
  )
}

export async function githubSandbox(values: {
  host?: string | undefined
  port?: string | undefined
  'data-dir'?: string | undefined
  'junction-url'?: string | undefined
  enterprise?: boolean | undefined
  seed?: boolean | undefined
}): Promise<number> {
  const { sb, app } = await startGitHubSandboxFromFlags(values)
  const kind = sb.enterprise ? 'GitHub Enterprise Server sandbox' : 'GitHub sandbox'
  process.stdout.write(
    `${kind} at ${sb.url} (REST ${sb.apiUrl}, codeload ${sb.codeloadUrl}, admin ${sb.url}/_sandbox)\n`,
  )
  if (values.seed) {
    const s = await seedGitHubSandbox(sb)
    process.stdout.write(
      `Seeded: user ${s.username} (password ${s.password}), organization ${s.organization}, repository ${s.repository}\n`,
    )
  }
  process.stdout.write(`\nStart Junction wired to it:\n  ${serveLine(sb, app)}\n`)
  await new Promise<void>((resolveStop) => {
    const stop = () => void sb.close().then(resolveStop)
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  return 0
}
