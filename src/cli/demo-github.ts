/**
 * @module cli/demo-github
 * `junction demo --provider github`: a seeded sandbox GitHub (user demo, organization demo-team,
 * repository demo-team/hello) with Junction's GitHub App registered and installed on demo-team,
 * and a Junction wired to that app, in one process, with the commands to try the whole flow
 * offline printed on start (docs/demo.md).
 */
import { resolve } from 'node:path'
import { awsClientSetup } from '../bootstrap/aws-config.js'
import { configFromFlags } from '../config.js'
import { startJunction } from '../junction.js'
import { CliError } from './api-client.js'
import { seedGitHubSandbox, startGitHubSandboxFromFlags } from './sandbox-github.js'
import type { DemoOptions } from './demo.js'

export async function demoGitHub(o: DemoOptions): Promise<number> {
  const { sb, app } = await startGitHubSandboxFromFlags({
    port: o.sandboxPort ?? '7991',
    'data-dir': `${o.dataDir}/sandbox-github`,
    'junction-url': `http://127.0.0.1:${o.port}`,
  })
  const seeded = await seedGitHubSandbox(sb)
  const config = configFromFlags(
    {
      port: o.port,
      'data-dir': o.dataDir,
      'github-url': sb.url,
      'github-api-url': sb.apiUrl,
      'github-app-id': String(app.id),
      'github-app-slug': app.slug,
      'github-client-id': app.clientId,
      'github-client-secret': app.clientSecret,
      'github-private-key-file': app.privateKeyFile,
      'github-webhook-secret': app.webhookSecret,
      'enable-commands': o.enableCommands,
      'commands-network': o.commandsNetwork,
    },
    {},
  )
  const junction = await startJunction(config)
  // The app's URLs follow this start's Junction (with --port 0 it is known only now), and
  // installing it asks for the user's authorization, which Junction needs to check that the
  // installation is one the user may use (the sandbox's state is this process's own).
  const a = sb.state.app(app.slug)!
  a.url = junction.url
  a.setupUrl = `${junction.url}/oauth/github/callback`
  a.callbackUrls = [`${junction.url}/oauth/github/callback`]
  a.webhookUrl = `${junction.url}/webhooks/github`
  a.requestOAuthOnInstall = true
  sb.state.save()
  // Installed on the organization (all repositories), so that a connection can complete without
  // a browser too; installing again from the browser keeps this installation.
  const r = await fetch(`${sb.url}/_sandbox/installations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ app: app.slug, account: seeded.organization, sender: seeded.username }),
  })
  const installed = (await r.json()) as { id?: number; message?: string }
  if (!r.ok || !installed.id)
    throw new CliError(`installing the app in the sandbox failed: ${JSON.stringify(installed)}`)
  // A fine-grained personal access token of the demo user with contents: write on the demo
  // repository only, so that step 4 is a real `git push` (GitHub takes no passwords for Git).
  const t = await fetch(`${sb.url}/_sandbox/users/${seeded.username}/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      owner: seeded.organization,
      repositories: [seeded.repository.split('/')[1]],
      permissions: { contents: 'write', metadata: 'read' },
    }),
  })
  const pat = (await t.json()) as { token?: string; message?: string }
  if (!t.ok || !pat.token)
    throw new CliError(
      `making the demo's access token in the sandbox failed: ${pat.message ?? t.status}`,
    )
  const pushUrl = new URL(`${sb.url}/${seeded.repository}.git`)
  pushUrl.username = seeded.username
  pushUrl.password = pat.token
  const folder = seeded.repository.split('/')[1]!
  const setup = awsClientSetup({
    dataDir: o.dataDir,
    region: config.region,
    endpointUrl: junction.url,
    root: junction.root,
  })
  process.stderr.write(`
Junction demo (GitHub) is running (Ctrl-C stops it).
  Junction:       ${junction.url}   (root credentials: ${junction.root.source}, profile junction)
  Sandbox GitHub: ${sb.url}   (user ${seeded.username} / password ${seeded.password}, organization ${seeded.organization})
  Junction's GitHub App: ${sb.url}/apps/${app.slug} (app id ${app.id}), installed on ${seeded.organization}: installation ${installed.id}

${setup.notes.map((n) => `${n}\n`).join('')}
In another shell, in this folder, point the AWS CLI at the demo:
${setup.exports.map((l) => `   ${l}\n`).join('')}
1. Create a connection (it starts PENDING):
   aws codestar-connections create-connection --provider-type GitHub --connection-name demo-github

2a. Complete it in a browser: print the install URL, open it, sign in as ${seeded.username}/${seeded.password}, on ${seeded.organization} press Save (or Install):
   npx junction connections handshake --connection-arn <arn>
2b. …or without a browser, with the app's installation on ${seeded.organization}:
   npx junction connections complete --connection-arn <arn> --installation-id ${installed.id}

3. Clone through the connection:
   git -c credential.useHttpPath=true -c 'credential.helper=!node ${resolve('dist/cli/main.js')} git-credential --connection-arn <arn>' clone ${sb.url}/${seeded.repository}.git

4. A pipeline that builds on every push (Commands actions are enabled in the demo): see docs/demo.md
   and docs/pipelines.md, "Pipelines: from a push to a finished run". Then, in the clone of step 3, commit and
   push as ${seeded.username} with the demo's fine-grained personal access token (contents: write on
   ${seeded.repository} only; GitHub takes no passwords for Git):
   git -C ${folder} -c user.name=${seeded.username} -c user.email=${seeded.username}@example.com commit --allow-empty -m 'Say more'
   git -C ${folder} push ${pushUrl.toString()} HEAD:main
   Then watch it: ${junction.url}/console/pipelines
`)
  await new Promise<void>((resolveStop) => {
    const stop = () => void Promise.all([junction.close(), sb.close()]).then(() => resolveStop())
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  junction.flushLogs()
  return 0
}
