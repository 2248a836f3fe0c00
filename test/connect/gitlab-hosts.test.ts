/**
 * GitLab self-managed through hosts, on the sandbox GitLab in self-managed mode: CreateHost
 * (GitLabSelfManaged, the instance URL) is PENDING; SetUpHost refuses a non-administrator's
 * token, a token without `api`, and under Admin Mode a token without `admin_mode` (each with a
 * clear message, nothing stored, the host still PENDING); root's admin token registers Junction's
 * instance OAuth application (seen through GitLab's Applications API) and the host is AVAILABLE,
 * the token in no store row, log line or answer. Connections with that HostArn complete through
 * the browser handshake against the host's application and through a token; `junction hosts
 * setup --token-file` (dist) sets up another host.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import {
  CreateHostCommand,
  GetConnectionCommand,
  GetHostCommand,
} from '@aws-sdk/client-codestar-connections'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testEngines } from '../helpers/engines.js'
import {
  cloneWith,
  completeGl,
  databaseText,
  glExt,
  glHandshakeToChoice,
  junctionCli,
  newGlConnection,
  repoNames,
  startGlConnect,
  stopGlConnect,
  type GlConnectFixture,
} from '../helpers/gitlab-connect.js'

const alice = { username: 'alice', password: 'alice-password' }

for (const engine of testEngines()) {
  describe(`GitLab self-managed hosts set up with an admin token [${engine}]`, () => {
    let f: GlConnectFixture
    let dir: string
    let hostArn: string
    let clientId: string
    const logs: string[] = []
    const answers: string[] = []
    const adminTokens: string[] = []

    beforeAll(async () => {
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          logs.push(chunk.toString())
          done()
        },
      })
      f = await startGlConnect(engine, {
        selfManaged: true,
        logger: pino({ level: 'trace' }, sink),
      })
      dir = mkdtempSync(join(tmpdir(), 'gl-host-'))
    }, 60_000)
    afterAll(async () => {
      await stopGlConnect(f)
      if (dir) rmSync(dir, { recursive: true, force: true })
    })

    const hostStatus = async (arn = hostArn) =>
      (await f.sdk.send(new GetHostCommand({ HostArn: arn }))).Status
    const newHost = async (name: string) =>
      (
        await f.sdk.send(
          new CreateHostCommand({
            Name: name,
            ProviderType: 'GitLabSelfManaged',
            ProviderEndpoint: f.gl.url,
          }),
        )
      ).HostArn!
    const rootToken = async (scopes: string[]) => {
      const t = (
        await f.gl.admin<{ token: string }>('tokens', {
          kind: 'personal',
          username: 'root',
          scopes,
        })
      ).token
      adminTokens.push(t)
      return t
    }
    const setUp = async (token: string, arn = hostArn) => {
      const r = await glExt(f, 'SetUpHost', { HostArn: arn, AdminToken: token })
      answers.push(r.text)
      return r
    }
    const refusedSetUp = async (token: string, message: RegExp) => {
      const r = await setUp(token)
      expect(r.status, r.text).toBe(400)
      expect(String(r.json['Message'])).toMatch(message)
      expect(String(r.json['Message'])).toMatch(/Nothing was stored; the token was not kept/)
      expect(await hostStatus()).toBe('PENDING')
      expect(await f.server.store.providerApps.get('GitLabSelfManaged', hostArn)).toBeFalsy()
    }

    it('creates a PENDING host for the instance', async () => {
      hostArn = await newHost('gitlab-sm')
      expect(await hostStatus()).toBe('PENDING')
      // A connection on it cannot start a handshake yet.
      const arn = await newGlConnection(f, { hostArn })
      const start = await glExt(f, 'StartOAuthHandshake', { ConnectionArn: arn })
      expect(start.status).toBeGreaterThanOrEqual(400)
      expect(start.status).toBeLessThan(500)
    })

    it("refuses a non-administrator's token, one without api, and without admin_mode under Admin Mode", async () => {
      adminTokens.push(f.gl.token('alice-api'))
      await refusedSetUp(f.gl.token('alice-api'), /alice is not an administrator/)
      await refusedSetUp(await rootToken(['read_api', 'admin_mode']), /\bapi\b/)
      await f.gl.admin('settings', { adminMode: true }, 'PUT')
      await refusedSetUp(await rootToken(['api']), /admin_mode/)
    })

    it("root's admin token registers the instance application: AVAILABLE, the token kept nowhere", async () => {
      const token = f.gl.token('root-admin')
      adminTokens.push(token)
      const r = await setUp(token)
      expect(r.status, r.text).toBe(200)
      expect(r.json).toMatchObject({ HostArn: hostArn, Status: 'AVAILABLE' })
      clientId = String(r.json['ClientId'])
      expect(await hostStatus()).toBe('AVAILABLE')
      // The application, as GitLab's own Applications API lists it.
      const apps = (await (await f.gl.get('/applications', token)).json()) as {
        application_id: string
        callback_url: string
      }[]
      expect(apps).toContainEqual(
        expect.objectContaining({
          application_id: clientId,
          callback_url: `${f.server.url}/oauth/gitlab/callback`,
        }),
      )
      const stored = await f.server.store.providerApps.get('GitLabSelfManaged', hostArn)
      expect(stored).toBeTruthy()
      const db = await databaseText(f.server)
      const text = [db, logs.join(''), answers.join('\n')].join('\n')
      for (const t of adminTokens) expect(text).not.toContain(t)
      // The application's secret is sealed: not in the rows either.
      const secret = f.gl.gl.state.data.apps.find((a) => a.uid === clientId)?.secret
      expect(secret).toBeTruthy()
      expect(db).not.toContain(secret)
    })

    it("completes a connection on the host through the browser handshake with the host's application", async () => {
      const arn = await newGlConnection(f, { hostArn, name: 'sm-browser' })
      const { choice, b } = await glHandshakeToChoice(f, arn, alice)
      const authorize = b.visited
        .map((u) => new URL(u))
        .find((u) => u.pathname === '/oauth/authorize')!
      expect(authorize.origin).toBe(f.gl.url)
      expect(authorize.searchParams.get('client_id')).toBe(clientId)
      expect(authorize.searchParams.get('code_challenge_method')).toBe('S256')
      expect(choice.url).toMatch(new RegExp(`^${f.server.url}/oauth/gitlab/callback\\?`))
      expect(choice.status, choice.html).toBe(200)
      const done = await b.submit(choice.forms[0]!, { choice: 'target:acme/platform' })
      expect(done.html).toContain('is <strong>AVAILABLE</strong>')
      const c = (await f.sdk.send(new GetConnectionCommand({ ConnectionArn: arn }))).Connection!
      expect(c).toMatchObject({
        ConnectionStatus: 'AVAILABLE',
        ProviderType: 'GitLabSelfManaged',
        HostArn: hostArn,
      })
      expect(repoNames(await glExt(f, 'ListRepositories', { ConnectionArn: arn }))).toEqual([
        'acme/platform/api',
        'acme/platform/tools/cli',
      ])
      const cred = await glExt(f, 'GetCloneCredentials', {
        ConnectionArn: arn,
        FullRepositoryId: 'acme/platform/api',
      })
      expect(cred.json).toMatchObject({
        CloneUrl: `${f.gl.url}/acme/platform/api.git`,
        Username: 'oauth2',
      })
      expect(await cloneWith(cred, join(dir, 'api'))).toBe(f.gl.world.commits.second)
    })

    it('completes a connection on the host with a personal access token', async () => {
      const arn = await newGlConnection(f, { hostArn })
      const r = await completeGl(f, arn, {
        Workspace: 'acme',
        AccessToken: f.gl.token('alice-api'),
      })
      expect(r.status, r.text).toBe(200)
      expect(r.json['Installation']).toMatchObject({
        ProviderType: 'GitLabSelfManaged',
        Workspace: 'acme',
        Status: 'AVAILABLE',
      })
      expect(repoNames(await glExt(f, 'ListRepositories', { ConnectionArn: arn }))).toEqual([
        'acme/platform/api',
        'acme/platform/tools/cli',
        'acme/website',
      ])
    })

    it('junction hosts setup --token-file (dist) sets up another host', async () => {
      const other = await newHost('gitlab-sm-cli')
      const file = join(dir, 'admin-token')
      const token = f.gl.token('root-admin')
      writeFileSync(file, `${token}\n`, { mode: 0o600 })
      const r = await junctionCli(f.server, [
        'hosts',
        'setup',
        '--host-arn',
        other,
        '--token-file',
        file,
      ])
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(
        /is AVAILABLE: Junction registered its OAuth application \(client id \S+\); the token was not kept\.\n$/,
      )
      expect(await hostStatus(other)).toBe('AVAILABLE')
      // A non-administrator's token: the refusal, and a non-zero exit.
      const third = await newHost('gitlab-sm-cli-2')
      writeFileSync(file, `${f.gl.token('alice-api')}\n`, { mode: 0o600 })
      const no = await junctionCli(f.server, [
        'hosts',
        'setup',
        '--host-arn',
        third,
        '--token-file',
        file,
      ])
      expect(no.code).not.toBe(0)
      expect(no.stderr).toMatch(/not an administrator/)
      expect(no.stderr).not.toContain(f.gl.token('alice-api'))
      expect(await hostStatus(third)).toBe('PENDING')
    }, 90_000)
  })
}
