/**
 * @module cli/demo-gitlab
 * `junction demo --provider gitlab`: a seeded sandbox GitLab (its own world, plus user demo, group
 * demo-team with demo as Owner, project demo-team/hello and demo's personal access token) with
 * Junction's OAuth application, and a Junction wired to it, in one process, with the commands to
 * try the whole flow offline printed on start (docs/demo.md).
 */
import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { awsClientSetup } from '../bootstrap/aws-config.js'
import { configFromFlags } from '../config.js'
import { startJunction } from '../junction.js'
import { startGitLabSandbox, type GitLabSandbox } from '../sandbox/gitlab/server.js'
import {
  createGroup,
  createProject,
  createToken,
  createUser,
  seedWorld,
} from '../sandbox/gitlab/world.js'
import { CliError } from './api-client.js'
import type { DemoOptions } from './demo.js'

const USER = 'demo'
const PASSWORD = 'demo'
const GROUP = 'demo-team'
const PROJECT = `${GROUP}/hello`

/**
 * The demo's part of the sandbox, made on its first start: user demo (Owner of demo-team), the
 * project demo-team/hello, and demo's personal access token (api, write_repository), which
 * completes a connection without a browser and pushes over Git (the sandbox, as GitLab with
 * two-factor authentication, takes tokens for Git, not passwords).
 */
async function seedDemo(sb: GitLabSandbox, junctionUrl: string): Promise<string> {
  const s = sb.state
  if (s.data.users.length === 0) await seedWorld(sb.gl, junctionUrl)
  const named = Object.entries(s.data.tokens).find(([, t]) => t.name === 'demo-token' && !t.revoked)
  if (named) return named[0]
  if (!s.user(USER)) createUser(sb.gl, { username: USER, password: PASSWORD, name: 'Demo User' })
  if (!s.groupByRef(GROUP)) {
    const g = createGroup(sb.gl, { path: GROUP, name: 'Demo Team' })
    s.setMember(`group:${g.id}`, USER, 50)
    s.save()
  }
  if (!s.projectByRef(PROJECT))
    await createProject(sb.gl, {
      namespace: GROUP,
      path: 'hello',
      name: 'hello',
      files: { 'README.md': '# hello\n\nThe demo repository.\n' },
      author: USER,
    })
  return createToken(sb.gl, {
    kind: 'personal',
    username: USER,
    scopes: ['api', 'write_repository'],
    name: 'demo-token',
  }).token
}

export async function demoGitLab(o: DemoOptions): Promise<number> {
  const port = Number(o.sandboxPort ?? '7992')
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new CliError(`--sandbox-port must be 0–65535, got '${o.sandboxPort}'`)
  const sb = await startGitLabSandbox({
    port,
    dataDir: `${o.dataDir}/sandbox-gitlab`,
    selfManaged: false,
  })
  const token = await seedDemo(sb, `http://127.0.0.1:${o.port}`)
  const app = sb.state.data.apps.find((a) => a.name === 'Junction')
  if (!app) throw new CliError("the sandbox GitLab has no OAuth application named 'Junction'")
  const config = configFromFlags(
    {
      port: o.port,
      'data-dir': o.dataDir,
      'gitlab-url': sb.url,
      'gitlab-api-url': sb.apiUrl,
      'gitlab-client-id': app.uid,
      'gitlab-client-secret': app.secret,
      'enable-commands': o.enableCommands,
      'commands-network': o.commandsNetwork,
    },
    {},
  )
  const junction = await startJunction(config)
  // The application's callback follows this start's Junction (with --port 0 it is known only now).
  app.redirectUri = `${junction.url}/oauth/gitlab/callback`
  sb.state.save()
  // The token for step 2b, in a file only this user reads (never on a command line).
  const tokenFile = resolve(o.dataDir, 'demo-gitlab-token')
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 })
  const pushUrl = new URL(`${sb.url}/${PROJECT}.git`)
  pushUrl.username = USER
  pushUrl.password = token
  const setup = awsClientSetup({
    dataDir: o.dataDir,
    region: config.region,
    endpointUrl: junction.url,
    root: junction.root,
  })
  process.stderr.write(`
Junction demo (GitLab) is running (Ctrl-C stops it).
  Junction:       ${junction.url}   (root credentials: ${junction.root.source}, profile junction)
  Sandbox GitLab: ${sb.url}   (user ${USER} / password ${PASSWORD}, group ${GROUP}, project ${PROJECT})
  Junction's GitLab OAuth application: client id ${app.uid}
  ${USER}'s personal access token (api, write_repository): in ${tokenFile}

${setup.notes.map((n) => `${n}\n`).join('')}
In another shell, in this folder, point the AWS CLI at the demo:
${setup.exports.map((l) => `   ${l}\n`).join('')}
1. Create a connection (it starts PENDING):
   aws codestar-connections create-connection --provider-type GitLab --connection-name demo-gitlab

2a. Complete it in a browser: print the authorization URL, open it, sign in as ${USER}/${PASSWORD}, authorize, choose ${GROUP}:
   npx junction connections handshake --connection-arn <arn>
2b. …or without a browser, with ${USER}'s personal access token on ${GROUP}:
   npx junction connections complete --connection-arn <arn> --namespace ${GROUP} --token-file ${tokenFile}

3. Clone through the connection:
   git -c credential.useHttpPath=true -c 'credential.helper=!node ${resolve('dist/cli/main.js')} git-credential --connection-arn <arn>' clone ${sb.url}/${PROJECT}.git

4. A pipeline that builds on every push (Commands actions are enabled in the demo): see docs/demo.md
   and docs/pipelines.md, "Pipelines: from a push to a finished run" (FullRepositoryId ${PROJECT}). Then,
   in the clone of step 3, commit and push as ${USER} with the demo's personal access token:
   git -C hello -c user.name=${USER} -c user.email=${USER}@example.com commit --allow-empty -m 'Say more'
   git -C hello push ${pushUrl.toString()} HEAD:main
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
