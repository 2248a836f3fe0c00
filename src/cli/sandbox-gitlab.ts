/**
 * @module cli/sandbox-gitlab
 * `junction sandbox gitlab`: runs the local GitLab.com (or, with `--self-managed`, self-managed
 * GitLab) stand-in, seeds its world on first start (users, nested groups, projects, tokens and
 * Junction's OAuth application with the callback `<junction-url>/oauth/gitlab/callback`), prints
 * the users, tokens and application id, and the `junction serve` line that wires Junction to it.
 */
import { parseArgs } from 'node:util'
import { resolve } from 'node:path'
import { startGitLabSandbox, type GitLabSandbox } from '../sandbox/gitlab/server.js'
import { seedWorld } from '../sandbox/gitlab/world.js'
import { CliError } from './api-client.js'

export const GITLAB_SANDBOX_USAGE = `Usage: junction sandbox gitlab [--host 127.0.0.1] [--port 7992] [--self-managed]
                              [--data-dir .junction-sandbox-gitlab]
                              [--junction-url http://127.0.0.1:4599]

Runs a local GitLab stand-in (docs/sandbox-gitlab.md): OAuth 2.0 with PKCE at /oauth, REST v4 at
/api/v4, Git over HTTP at /<namespace>/<project>.git, personal/group/project access tokens,
project webhooks, and an admin API under /_sandbox/. --self-managed runs it as a self-managed
instance (X-Gitlab-Instance is its own URL; root may use the Applications API). The first start
seeds users, groups acme, acme/platform, acme/platform/tools, projects, tokens and Junction's
OAuth application (callback <junction-url>/oauth/gitlab/callback), and prints them.
`

/** The users, live tokens and the Junction application, as the banner prints them. */
export function banner(sb: GitLabSandbox): string {
  const s = sb.state
  const kind = sb.selfManaged ? 'GitLab self-managed sandbox' : 'GitLab sandbox (gitlab.com mode)'
  const lines = [`${kind} at ${sb.url} (REST ${sb.apiUrl}, admin ${sb.url}/_sandbox)`, '', 'Users:']
  for (const u of s.data.users.filter((x) => !x.bot))
    lines.push(
      `  ${u.username.padEnd(8)} password ${u.password}${u.admin ? '  (instance administrator)' : ''}`,
    )
  lines.push('', 'Access tokens:')
  for (const [secret, t] of Object.entries(s.data.tokens))
    if (t.kind !== 'oauth' && t.kind !== 'refresh' && !t.revoked)
      lines.push(`  ${t.name.padEnd(18)} ${secret}  ${t.username} [${t.scopes.join(' ')}]`)
  const app = s.data.apps.find((a) => a.name === 'Junction')
  if (app) {
    lines.push('', `OAuth application "Junction": client id ${app.uid}`)
    lines.push(`  callback ${app.redirectUri}, scopes ${app.scopes.join(' ')}`)
    lines.push(
      '',
      'Start Junction wired to it:',
      `  JUNCTION_GITLAB_CLIENT_SECRET=${app.secret} junction serve --gitlab-url ${sb.url} --gitlab-client-id ${app.uid}`,
    )
  }
  return `${lines.join('\n')}\n`
}

export async function gitlabSandbox(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      'junction-url': { type: 'string' },
      'self-managed': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  })
  if (values.help) {
    process.stdout.write(GITLAB_SANDBOX_USAGE)
    return 0
  }
  const port = Number(values.port ?? '7992')
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new CliError(`--port must be 0–65535, got '${values.port}'`)
  const junctionUrl = (values['junction-url'] ?? 'http://127.0.0.1:4599').replace(/\/+$/, '')
  if (!/^https?:\/\//.test(junctionUrl)) throw new CliError('--junction-url must be an http(s) URL')
  const sb = await startGitLabSandbox({
    host: values.host ?? '127.0.0.1',
    port,
    dataDir: resolve(values['data-dir'] ?? '.junction-sandbox-gitlab'),
    selfManaged: values['self-managed'] ?? false,
  })
  if (sb.state.data.users.length === 0) await seedWorld(sb.gl, junctionUrl)
  process.stdout.write(banner(sb))
  await new Promise<void>((resolveStop) => {
    const stop = () => void sb.close().then(resolveStop)
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  return 0
}
