/**
 * GitLab connections completed without a browser (CompleteConnection, and `junction connections
 * complete` from dist/) against the sandbox GitLab, with each token type: a personal access token
 * of a Maintainer, a group access token, a project access token; each AVAILABLE and limited to
 * what it reaches within the chosen namespace (subgroups included, siblings not). Refused, with
 * nothing stored: a token without `api` (the message names it), a PAT of a user below Maintainer,
 * a project outside the namespace, a revoked and an expired token.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GetConnectionCommand } from '@aws-sdk/client-codestar-connections'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testEngines } from '../helpers/engines.js'
import {
  cloneWith,
  completeGl,
  glExt,
  newGlConnection,
  repoNames,
  startGlConnect,
  stopGlConnect,
  type GlConnectFixture,
} from '../helpers/gitlab-connect.js'
import { BIN } from '../helpers/process.js'

function junction(args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

for (const engine of testEngines()) {
  describe(`GitLab CompleteConnection with access tokens [${engine}]`, () => {
    let f: GlConnectFixture
    let dir: string
    const token = async (body: Record<string, unknown>) =>
      (await f.gl.admin<{ token: string }>('tokens', body)).token

    beforeAll(async () => {
      f = await startGlConnect(engine)
      dir = mkdtempSync(join(tmpdir(), 'gl-tok-'))
      // A sibling of acme/platform: never reached by a connection for acme/platform.
      await f.gl.admin('projects', { namespace: 'acme', path: 'other', files: { o: 'o\n' } })
    }, 60_000)
    afterAll(async () => {
      await stopGlConnect(f)
      if (dir) rmSync(dir, { recursive: true, force: true })
    })

    const status = async (arn: string) =>
      (await f.sdk.send(new GetConnectionCommand({ ConnectionArn: arn }))).Connection!
        .ConnectionStatus
    const branch = (arn: string, repo: string) =>
      glExt(f, 'GetBranch', { ConnectionArn: arn, FullRepositoryId: repo, BranchName: 'main' })
    const refused = async (arn: string, body: Record<string, unknown>, message: RegExp) => {
      const before = await f.server.store.installations.list('000000000000', 'GitLab')
      const r = await completeGl(f, arn, body)
      expect(r.status, r.text).toBeGreaterThanOrEqual(400)
      expect(r.status).toBeLessThan(500)
      expect(String(r.json['message'] ?? r.json['Message'])).toMatch(message)
      expect(await status(arn)).toBe('PENDING')
      expect(await f.server.store.installations.list('000000000000', 'GitLab')).toHaveLength(
        before.length,
      )
      // The token is in no answer.
      expect(r.text).not.toContain(String(body['AccessToken']))
    }

    it("a Maintainer's personal access token: acme/platform and its subgroup, not acme/other", async () => {
      const arn = await newGlConnection(f)
      const r = await completeGl(f, arn, {
        Workspace: 'acme/platform',
        AccessToken: f.gl.token('alice-api'),
      })
      expect(r.status, r.text).toBe(200)
      expect(r.json['Installation']).toMatchObject({
        Workspace: 'acme/platform',
        ProviderType: 'GitLab',
        Status: 'AVAILABLE',
        CredentialType: 'PersonalAccessToken',
      })
      expect(await status(arn)).toBe('AVAILABLE')
      expect(repoNames(await glExt(f, 'ListRepositories', { ConnectionArn: arn }))).toEqual([
        'acme/platform/api',
        'acme/platform/tools/cli',
      ])
      expect((await branch(arn, 'acme/platform/tools/cli')).status).toBe(200)
      for (const outside of ['acme/other', 'acme/website', 'alice/notes']) {
        const b = await branch(arn, outside)
        expect(b.status, outside).toBeGreaterThanOrEqual(400)
        expect(b.status).toBeLessThan(500)
      }
      const cred = await glExt(f, 'GetCloneCredentials', {
        ConnectionArn: arn,
        FullRepositoryId: 'acme/platform/tools/cli',
      })
      expect(cred.json['Username']).toBe('oauth2')
      await cloneWith(cred, join(dir, 'pat-cli'))
    })

    it('a group access token (Maintainer bot of acme/platform, api)', async () => {
      const t = await token({
        kind: 'group',
        target: 'acme/platform',
        scopes: ['api', 'read_repository'],
        accessLevel: 40,
      })
      const arn = await newGlConnection(f)
      const r = await completeGl(f, arn, {
        Workspace: 'acme/platform',
        AccessToken: t,
        TokenType: 'GroupAccessToken',
      })
      expect(r.status, r.text).toBe(200)
      expect(r.json['Installation']).toMatchObject({
        Workspace: 'acme/platform',
        CredentialType: 'GroupAccessToken',
      })
      expect(repoNames(await glExt(f, 'ListRepositories', { ConnectionArn: arn }))).toEqual([
        'acme/platform/api',
        'acme/platform/tools/cli',
      ])
      expect((await branch(arn, 'acme/other')).status).toBeGreaterThanOrEqual(400)
    })

    it('a project access token (Maintainer bot of acme/platform/api): that project only', async () => {
      const arn = await newGlConnection(f)
      // Without Repository: a project token reaches only its project, say so.
      const noRepo = await completeGl(f, arn, {
        Workspace: 'acme/platform',
        AccessToken: f.gl.token('api-project-token'),
        TokenType: 'ProjectAccessToken',
      })
      expect(noRepo.status).toBe(400)
      expect(String(noRepo.json['Message'] ?? noRepo.json['message'])).toMatch(/give Repository/)
      const r = await completeGl(f, arn, {
        Workspace: 'acme/platform',
        AccessToken: f.gl.token('api-project-token'),
        TokenType: 'ProjectAccessToken',
        Repository: 'api',
      })
      expect(r.status, r.text).toBe(200)
      expect(r.json['Installation']).toMatchObject({ CredentialType: 'ProjectAccessToken' })
      expect(repoNames(await glExt(f, 'ListRepositories', { ConnectionArn: arn }))).toEqual([
        'acme/platform/api',
      ])
      expect((await branch(arn, 'acme/platform/tools/cli')).status).toBeGreaterThanOrEqual(400)
      const cred = await glExt(f, 'GetCloneCredentials', {
        ConnectionArn: arn,
        FullRepositoryId: 'acme/platform/api',
      })
      expect(await cloneWith(cred, join(dir, 'prj-api'))).toBe(f.gl.world.commits.second)
    })

    it('refuses a token without api, naming the scope', async () => {
      const arn = await newGlConnection(f)
      const t = await token({
        kind: 'personal',
        username: 'alice',
        scopes: ['read_api', 'read_repository'],
      })
      await refused(arn, { Workspace: 'acme/platform', AccessToken: t }, /lacks the api scope/)
      const g = await token({
        kind: 'group',
        target: 'acme/platform',
        scopes: ['read_repository'],
        accessLevel: 40,
      })
      await refused(
        arn,
        { Workspace: 'acme/platform', AccessToken: g, TokenType: 'GroupAccessToken' },
        /lacks the api scope/,
      )
    })

    it('refuses the PAT of a user below Maintainer (bob, Developer of acme/platform)', async () => {
      const arn = await newGlConnection(f)
      const t = await token({ kind: 'personal', username: 'bob', scopes: ['api'] })
      await refused(arn, { Workspace: 'acme/platform', AccessToken: t }, /Maintainer/)
      // Narrowed to one project, he still needs Maintainer on it.
      await refused(
        arn,
        { Workspace: 'acme/platform', AccessToken: t, Repository: 'api' },
        /Maintainer/,
      )
    })

    it('refuses a project outside the namespace', async () => {
      const arn = await newGlConnection(f)
      for (const repository of ['acme/other', 'acme/website', '../other'])
        await refused(
          arn,
          {
            Workspace: 'acme/platform',
            AccessToken: f.gl.token('alice-api'),
            Repository: repository,
          },
          /Project Not Found|must be a project of acme\/platform/,
        )
      // The project token of acme/platform/api for a namespace it is not in.
      await refused(
        arn,
        {
          Workspace: 'alice',
          AccessToken: f.gl.token('api-project-token'),
          TokenType: 'ProjectAccessToken',
          Repository: 'api',
        },
        /Project Not Found/,
      )
    })

    it('refuses a revoked and an expired token', async () => {
      const arn = await newGlConnection(f)
      const revoked = await token({ kind: 'personal', username: 'alice', scopes: ['api'] })
      await f.gl.admin('tokens/revoke', { token: revoked })
      await refused(
        arn,
        { Workspace: 'acme/platform', AccessToken: revoked },
        /refused the credential/,
      )
      const expiring = await token({
        kind: 'personal',
        username: 'alice',
        scopes: ['api'],
        expiresInSeconds: 3600,
      })
      await f.gl.admin('clock', { advanceSeconds: 2 * 86400 })
      await refused(
        arn,
        { Workspace: 'acme/platform', AccessToken: expiring },
        /refused the credential/,
      )
    })

    it('junction connections complete (dist) with --namespace, --token-type and --repository', async () => {
      const env = {
        AWS_ACCESS_KEY_ID: f.server.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: f.server.credentials.secretAccessKey,
        AWS_REGION: 'us-east-1',
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      }
      const file = join(dir, 'token')
      writeFileSync(file, `${f.gl.token('alice-api')}\n`, { mode: 0o600 })
      const client = ['--endpoint-url', f.server.url]
      const arn = await newGlConnection(f, { name: 'gl-cli' })
      const done = await junction(
        [
          'connections',
          'complete',
          ...client,
          '--connection-arn',
          arn,
          '--namespace',
          'acme/platform',
          '--token-file',
          file,
        ],
        env,
      )
      expect(done.stderr).toBe('')
      expect(done.code).toBe(0)
      expect(done.stdout).toMatch(
        /^gl-cli is AVAILABLE \(GitLab namespace acme\/platform, installation \S+\)\n$/,
      )
      expect(await status(arn)).toBe('AVAILABLE')

      writeFileSync(file, `${f.gl.token('api-project-token')}\n`, { mode: 0o600 })
      const narrowed = await newGlConnection(f, { name: 'gl-cli-project' })
      const p = await junction(
        [
          'connections',
          'complete',
          ...client,
          '--connection-arn',
          narrowed,
          '--namespace',
          'acme/platform',
          '--token-type',
          'project',
          '--repository',
          'api',
          '--token-file',
          file,
        ],
        env,
      )
      expect(p.stderr).toBe('')
      expect(p.stdout).toMatch(
        /^gl-cli-project is AVAILABLE \(GitLab project acme\/platform\/api, /,
      )

      // A refusal is a message and a non-zero exit, without the token in it.
      const t = await token({ kind: 'personal', username: 'alice', scopes: ['read_api'] })
      writeFileSync(file, `${t}\n`, { mode: 0o600 })
      const pending = await newGlConnection(f)
      const no = await junction(
        [
          'connections',
          'complete',
          ...client,
          '--connection-arn',
          pending,
          '--namespace',
          'acme/platform',
          '--token-file',
          file,
        ],
        env,
      )
      expect(no.code).not.toBe(0)
      expect(no.stderr).toMatch(/api scope/)
      expect(no.stderr + no.stdout).not.toContain(t)
    }, 90_000)
  })
}
