/**
 * `junction github app create` and `junction hosts setup` with the built binary (issue 13 items 2
 * and 5): each prints a one-time link that, opened in a browser, registers the GitHub App through
 * the sandbox GitHub's manifest page and stores it (the host moves PENDING → AVAILABLE); usage
 * errors exit 2; an IAM user's key is refused (exit 1, AccessDeniedException).
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateHostCommand, GetHostCommand } from '@aws-sdk/client-codestar-connections'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGitHubSandbox, type GitHubSandbox } from '../../src/sandbox/github/server.js'
import { sdkClient } from '../helpers/client.js'
import { FormBrowser, throughGitHub } from '../helpers/github-app.js'
import { iamClient, userWithPolicy } from '../helpers/iam.js'
import { BIN } from '../helpers/process.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

function junction(args: string[], env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

// Each case starts several junction processes (a few seconds each on a loaded machine).
describe('junction github app create and junction hosts setup', { timeout: 120_000 }, () => {
  let sb: GitHubSandbox
  let ghes: GitHubSandbox
  let server: TestServer
  const dirs: string[] = []
  const user = { login: 'cli-admin', password: 'cli-pass-123' }
  const client = () => ['--data-dir', server.dataDir, '--endpoint-url', server.url]
  beforeAll(async () => {
    dirs.push(mkdtempSync(join(tmpdir(), 'gh-cli-')), mkdtempSync(join(tmpdir(), 'ghes-cli-')))
    sb = await startGitHubSandbox({ port: 0, dataDir: dirs[0]!, host: '127.0.0.1' })
    ghes = await startGitHubSandbox({
      port: 0,
      dataDir: dirs[1]!,
      host: '127.0.0.1',
      enterprise: true,
    })
    for (const s of [sb, ghes]) {
      const r = await fetch(`${s.url}/_sandbox/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: user.login, password: user.password }),
      })
      expect(r.status).toBe(201)
    }
    server = await startTestServer('sqlite', {
      'github-url': sb.url,
      'github-api-url': sb.apiUrl,
    } as never)
  }, 60_000)
  afterAll(async () => {
    await server?.stop()
    await sb?.close()
    await ghes?.close()
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  it('prints the link that registers the app on github.com', async () => {
    const r = await junction(['github', 'app', 'create', '--name', 'Junction CLI', ...client()])
    expect(r.stderr).toContain('within 10 minutes')
    expect(r.code).toBe(0)
    const link = r.stdout.trim()
    expect(link).toMatch(new RegExp(`^${server.url}/console/github-app/start\\?t=`))
    const b = new FormBrowser()
    const { start, back } = await throughGitHub(b, link, user)
    expect(start.text).toContain(`${sb.url}/settings/apps/new?state=`)
    expect((await b.go(back)).status).toBe(200)
    expect((await server.store.providerApps.get('GitHub'))?.slug).toBe('junction-cli')
  })

  it('sets up a GitHub Enterprise Server host', async () => {
    const sdk = sdkClient(server.url, server.credentials)
    const { HostArn } = await sdk.send(
      new CreateHostCommand({
        Name: 'ghes-cli',
        ProviderType: 'GitHubEnterpriseServer',
        ProviderEndpoint: ghes.url,
      }),
    )
    const r = await junction(['hosts', 'setup', '--host-arn', HostArn!, ...client()])
    expect(r.code).toBe(0)
    const b = new FormBrowser()
    const { start, back } = await throughGitHub(b, r.stdout.trim(), user)
    expect(start.text).toContain(`${ghes.url}/settings/apps/new?state=`)
    expect((await sdk.send(new GetHostCommand({ HostArn }))).Status).toBe('PENDING')
    expect((await b.go(back)).status).toBe(200)
    expect((await sdk.send(new GetHostCommand({ HostArn }))).Status).toBe('AVAILABLE')
    expect((await server.store.providerApps.get('GitHubEnterpriseServer', HostArn))?.hostArn).toBe(
      HostArn,
    )
    sdk.destroy()
  })

  it('usage errors exit 2; help exits 0', async () => {
    expect((await junction(['hosts', 'setup', ...client()])).code).toBe(2)
    expect((await junction(['github', 'app', 'delete'])).code).toBe(2)
    expect((await junction(['github', 'app', 'create', '--bogus'])).code).toBe(2)
    const help = await junction(['github', '--help'])
    expect(help.code).toBe(0)
    expect(help.stderr + help.stdout).toContain('junction github app create')
    const name = await junction(['github', 'app', 'create', '--name', 'x'.repeat(40), ...client()])
    expect(name.code).toBe(1)
    expect(name.stderr).toMatch(/Name/)
  })

  it('refuses an IAM user (only the root registers apps)', async () => {
    const iam = iamClient(server.url, server.credentials)
    const key = await userWithPolicy(
      iam,
      'cli-nonroot',
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
      }),
    )
    iam.destroy()
    const file = join(dirs[0]!, 'user-credentials')
    writeFileSync(
      file,
      `[u]\naws_access_key_id = ${key.accessKeyId}\naws_secret_access_key = ${key.secretAccessKey}\n`,
    )
    const r = await junction(
      ['github', 'app', 'create', '--profile', 'u', '--endpoint-url', server.url],
      { AWS_SHARED_CREDENTIALS_FILE: file },
    )
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('AccessDeniedException')
    expect(r.stdout).toBe('')
  })
})
