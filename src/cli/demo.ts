/**
 * @module cli/demo
 * `junction demo [--provider bitbucket|github|gitlab]` (`npm run demo`): a seeded sandbox Bitbucket
 * (or GitHub: demo-github.ts; GitLab: demo-gitlab.ts) and a Junction wired to it, in one process, with the commands to try the
 * whole flow offline printed on start (docs/demo.md).
 */
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { configFromFlags } from '../config.js'
import { startJunction } from '../junction.js'
import { findSlirp } from '../pipelines/isolation/network.js'
import { SYSTEM_PATH } from '../pipelines/isolation/sandbox.js'
import { seedSandbox, startSandboxFromFlags } from './sandbox.js'
import { CliError } from './api-client.js'
import { demoGitHub } from './demo-github.js'
import { demoGitLab } from './demo-gitlab.js'
import { awsClientSetup } from '../bootstrap/aws-config.js'

export const DEMO_USAGE = `Usage: junction demo [--provider bitbucket|github|gitlab] [--port 4599] [--sandbox-port <port>]
                     [--data-dir .junction-demo]
       npm run demo -- [the same flags]

Starts, in one process, a seeded sandbox provider and a Junction wired to it, and prints the
commands that take a connection from PENDING to AVAILABLE, clone through it and start a pipeline
with a push, all offline (docs/demo.md). Ctrl-C stops both.
  --provider bitbucket   the sandbox Bitbucket (default; port 7990): user demo/demo, workspace
                         demo-team, repository demo-team/hello, a workspace access token
  --provider github      the sandbox GitHub (port 7991): user demo/demo, organization demo-team,
                         repository demo-team/hello, Junction's GitHub App installed on demo-team
  --provider gitlab      the sandbox GitLab (port 7992): user demo/demo, group demo-team, project
                         demo-team/hello, Junction's OAuth application, demo's access token
  --port                 Junction's port (0: any free one)
  --sandbox-port         the sandbox's port (0: any free one)
  --data-dir             Junction's data; the sandbox's is in a folder inside it
`

/** What every provider's demo starts from. */
export interface DemoOptions {
  port: string
  sandboxPort: string | undefined
  dataDir: string
  enableCommands: boolean
  commandsNetwork: 'private' | 'none'
}

export async function demo(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      provider: { type: 'string' },
      port: { type: 'string' },
      'sandbox-port': { type: 'string' },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  })
  if (values.help) {
    process.stdout.write(DEMO_USAGE)
    return 0
  }
  const provider = (values.provider ?? 'bitbucket').toLowerCase()
  if (provider !== 'bitbucket' && provider !== 'github' && provider !== 'gitlab')
    throw new CliError(`--provider must be bitbucket, github or gitlab, got '${values.provider}'`)
  const dataDir = resolve(values['data-dir'] ?? '.junction-demo')
  const port = values.port ?? '4599'
  if (provider === 'gitlab')
    return demoGitLab({
      port,
      sandboxPort: values['sandbox-port'],
      dataDir,
      enableCommands: process.getuid?.() === 0,
      commandsNetwork: findSlirp(SYSTEM_PATH) ? 'private' : 'none',
    })
  if (provider === 'github')
    return demoGitHub({
      port,
      sandboxPort: values['sandbox-port'],
      dataDir,
      // As below: Commands actions where the demo runs as root, outbound network where
      // slirp4netns is installed.
      enableCommands: process.getuid?.() === 0,
      commandsNetwork: findSlirp(SYSTEM_PATH) ? 'private' : 'none',
    })
  const sb = await startSandboxFromFlags({
    port: values['sandbox-port'] ?? '7990',
    'data-dir': `${dataDir}/sandbox-bitbucket`,
    'junction-url': `http://127.0.0.1:${port}`,
  })
  const seeded = await seedSandbox(sb)
  const config = configFromFlags(
    {
      port,
      'data-dir': dataDir,
      'bitbucket-url': sb.url,
      'bitbucket-client-id': sb.consumer!.key,
      'bitbucket-client-secret': sb.consumer!.secret,
      // A local trial: pipelines may run their Commands actions on this machine, isolated, which
      // needs root (otherwise the demo runs without them; the action then says why).
      'enable-commands': process.getuid?.() === 0,
      // Builds get outbound network where slirp4netns is installed, none otherwise (never the host's).
      'commands-network': findSlirp(SYSTEM_PATH) ? 'private' : 'none',
    },
    {},
  )
  const junction = await startJunction(config)
  // With --port 0 the callback is known only now.
  await fetch(`${sb.url}/_sandbox/consumers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      key: sb.consumer!.key,
      secret: sb.consumer!.secret,
      callbackUrl: `${junction.url}/oauth/bitbucket/callback`,
    }),
  })
  const setup = awsClientSetup({
    dataDir,
    region: config.region,
    endpointUrl: junction.url,
    root: junction.root,
  })
  const creds = junction.root.source
  process.stderr.write(`
Junction demo is running (Ctrl-C stops it).
  Junction:          ${junction.url}   (root credentials: ${creds}, profile junction)
  Sandbox Bitbucket: ${sb.url}   (user ${seeded.username} / password ${seeded.password}, workspace ${seeded.workspace})

${setup.notes.map((n) => `${n}\n`).join('')}
In another shell, in this folder, point the AWS CLI at the demo:
${setup.exports.map((l) => `   ${l}\n`).join('')}
1. Create a connection (it starts PENDING):
   aws codestar-connections create-connection --provider-type Bitbucket --connection-name demo

2a. Complete it in a browser: print the consent URL, open it, sign in as demo/demo, choose Demo Team, Connect:
   npx junction connections handshake --connection-arn <arn>
2b. …or without a browser, with the sandbox workspace's access token:
   echo ${seeded.workspaceToken} | npx junction connections complete --connection-arn <arn> --workspace ${seeded.workspace}

3. Clone through the connection:
   git -c credential.useHttpPath=true -c 'credential.helper=!node ${resolve('dist/cli/main.js')} git-credential --connection-arn <arn>' clone ${sb.url}/${seeded.repository}.git

4. A pipeline that builds on every push (Commands actions are enabled in the demo): see docs/pipelines.md,
   "Pipelines: from a push to a finished run". Push as the sandbox user:
   git push http://${seeded.username}:${seeded.password}@${sb.url.replace(/^http:\/\//, '')}/${seeded.repository}.git main
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
