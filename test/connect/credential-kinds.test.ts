/**
 * Completing without a browser with each credential Bitbucket Cloud customers have (issue 12 item
 * 7): repository, project and workspace access tokens, and Atlassian API tokens (with the account
 * email). Each is verified the way bitbucket.org lets that kind be asked, records what it reaches
 * (the workspace, a project, a repository), and every use stays inside that reach. The sandbox is
 * checked too: what it answers each kind on each endpoint the adapter calls, and Git's usernames.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectAwsError } from '../helpers/api.js'
import {
  ext,
  newConnection,
  startConnectFixture,
  stopConnectFixture,
  type ConnectFixture,
} from '../helpers/connect.js'

const run = promisify(execFile)

const names = (r: { json: Record<string, unknown> }) =>
  ((r.json['Repositories'] ?? []) as { FullRepositoryId: string }[])
    .map((x) => x.FullRepositoryId)
    .sort()

describe('completing with repository, project and API tokens', () => {
  let f: ConnectFixture
  let repoToken: string
  let projectToken: string
  let aliceApi: string
  let bobApi: string
  beforeAll(async () => {
    f = await startConnectFixture('sqlite')
    await f.sb.admin('projects', { workspace: 'acme', key: 'CORE', name: 'Core' })
    await f.sb.admin('repositories', {
      workspace: 'acme',
      slug: 'core-svc',
      project: 'CORE',
      files: { 'svc.txt': 'svc\n' },
    })
    await f.sb.admin('repositories', {
      workspace: 'acme',
      slug: 'pub',
      isPrivate: false,
      files: { 'pub.txt': 'pub\n' },
    })
    repoToken = (
      await f.sb.admin<{ token: string }>('access-tokens', { workspace: 'acme', repository: 'app' })
    ).token
    projectToken = (
      await f.sb.admin<{ token: string }>('access-tokens', { workspace: 'acme', project: 'CORE' })
    ).token
    aliceApi = (await f.sb.admin<{ token: string }>('api-tokens', { username: 'alice' })).token
    bobApi = (await f.sb.admin<{ token: string }>('api-tokens', { username: 'bob' })).token
  })
  afterAll(() => stopConnectFixture(f))

  const complete = async (body: Record<string, unknown>) => {
    const arn = await newConnection(f)
    return {
      arn,
      r: await ext(f, 'CompleteConnection', { ConnectionArn: arn, Workspace: 'acme', ...body }),
    }
  }

  it('refuses a kind without what it needs, before asking Bitbucket', async () => {
    for (const [body, message] of [
      [{ AccessToken: repoToken, TokenType: 'RepositoryAccessToken' }, /give Repository/],
      [{ AccessToken: projectToken, TokenType: 'ProjectAccessToken' }, /give Project/],
      [{ AccessToken: aliceApi, TokenType: 'ApiToken' }, /Email/],
      [
        { AccessToken: repoToken, TokenType: 'RepositoryAccessToken', Repository: 'rival/app' },
        /workspace acme/,
      ],
      [{ AccessToken: repoToken, Email: 'alice@example.com' }, /only for TokenType ApiToken/],
    ] as const) {
      const { r } = await complete(body)
      expectAwsError(r, 'InvalidInputException', 400, message)
    }
    const bad = await complete({ AccessToken: repoToken, TokenType: 'AppPassword' })
    expectAwsError(bad.r, 'ValidationException', 400, /TokenType/)
  })

  it('completes with a repository access token that reaches its repository only', async () => {
    const wrong = await complete({
      AccessToken: repoToken,
      TokenType: 'RepositoryAccessToken',
      Repository: 'lib',
    })
    expect(wrong.r.status).toBe(400)
    expect(wrong.r.json.__type).toMatch(/ResourceNotFoundException|ResourceUnavailableException/)
    const { arn, r } = await complete({
      AccessToken: repoToken,
      TokenType: 'RepositoryAccessToken',
      Repository: 'acme/app',
    })
    expect(r.status, r.text).toBe(200)
    expect(r.text).not.toContain(repoToken)
    expect(r.json['Installation']).toMatchObject({
      Workspace: 'acme',
      CredentialType: 'RepositoryAccessToken',
      Repository: 'acme/app',
    })
    expect(String((r.json['Installation'] as Record<string, unknown>)['InstallationId'])).toMatch(
      /:repository:app$/,
    )
    // The listing Bitbucket gives this token also holds acme/pub (public): not reached here.
    expect(names(await ext(f, 'ListRepositories', { ConnectionArn: arn }))).toEqual(['acme/app'])
    const head = await ext(f, 'GetBranch', {
      ConnectionArn: arn,
      FullRepositoryId: 'acme/app',
      BranchName: 'main',
    })
    expect(head.json['CommitId']).toBe(f.world.commits.second)
    for (const repo of ['acme/lib', 'acme/pub', 'acme/core-svc'])
      expectAwsError(
        await ext(f, 'GetBranch', {
          ConnectionArn: arn,
          FullRepositoryId: repo,
          BranchName: 'main',
        }),
        'AccessDeniedException',
        400,
        /only the repository acme\/app/,
      )
    const clone = await ext(f, 'GetCloneCredentials', {
      ConnectionArn: arn,
      FullRepositoryId: 'acme/app',
    })
    expect(clone.json).toMatchObject({ Username: 'x-token-auth', Password: repoToken })
    // The workspace's own installation is not replaced by the narrower one.
    const all = await ext(f, 'ListInstallations', {})
    expect(
      (all.json['Installations'] as { InstallationId: string }[]).every(
        (i) => !/^[0-9a-f-]{36}$/.test(i.InstallationId),
      ),
    ).toBe(true)
  })

  it('completes with a project access token that reaches its project’s repositories only', async () => {
    const wrong = await complete({
      AccessToken: projectToken,
      TokenType: 'ProjectAccessToken',
      Project: 'ACME',
    })
    expect(wrong.r.status).toBe(400)
    const { arn, r } = await complete({
      AccessToken: projectToken,
      TokenType: 'ProjectAccessToken',
      Project: 'CORE',
    })
    expect(r.status, r.text).toBe(200)
    expect(r.json['Installation']).toMatchObject({
      CredentialType: 'ProjectAccessToken',
      Project: 'CORE',
    })
    expect(names(await ext(f, 'ListRepositories', { ConnectionArn: arn }))).toEqual([
      'acme/core-svc',
    ])
    const ok = await ext(f, 'GetBranch', {
      ConnectionArn: arn,
      FullRepositoryId: 'acme/core-svc',
      BranchName: 'main',
    })
    expect(ok.status, ok.text).toBe(200)
    expectAwsError(
      await ext(f, 'ListBranches', { ConnectionArn: arn, FullRepositoryId: 'acme/pub' }),
      'AccessDeniedException',
      400,
      /project CORE/,
    )
  })

  it('completes with an Atlassian API token and the account email; Git takes x-bitbucket-api-token-auth', async () => {
    const wrongEmail = await complete({
      AccessToken: aliceApi,
      TokenType: 'ApiToken',
      Email: 'bob@example.com',
    })
    expectAwsError(wrongEmail.r, 'ResourceUnavailableException', 400, /refused the credential/)
    expect(wrongEmail.r.text).not.toContain(aliceApi)
    const { arn, r } = await complete({
      AccessToken: aliceApi,
      TokenType: 'ApiToken',
      Email: 'alice@example.com',
    })
    expect(r.status, r.text).toBe(200)
    expect(r.text).not.toContain(aliceApi)
    expect(r.json['Installation']).toMatchObject({ CredentialType: 'ApiToken', Workspace: 'acme' })
    expect(names(await ext(f, 'ListRepositories', { ConnectionArn: arn }))).toEqual([
      'acme/app',
      'acme/core-svc',
      'acme/lib',
      'acme/pub',
    ])
    const clone = await ext(f, 'GetCloneCredentials', {
      ConnectionArn: arn,
      FullRepositoryId: 'acme/core-svc',
    })
    expect(clone.json['Username']).toBe('x-bitbucket-api-token-auth')
    const u = new URL(String(clone.json['CloneUrl']))
    u.username = String(clone.json['Username'])
    u.password = String(clone.json['Password'])
    const { stdout } = await run('git', ['ls-remote', u.toString(), 'refs/heads/main'])
    expect(stdout).toMatch(/^[0-9a-f]{40}\trefs\/heads\/main/)
  })

  it('needs the administrator for a whole workspace with a user token; a member may name one repository', async () => {
    const all = await complete({
      AccessToken: bobApi,
      TokenType: 'ApiToken',
      Email: 'bob@example.com',
    })
    expectAwsError(all.r, 'AccessDeniedException', 400, /administrator/)
    const one = await complete({
      AccessToken: bobApi,
      TokenType: 'ApiToken',
      Email: 'bob@example.com',
      Repository: 'lib',
    })
    expect(one.r.status, one.r.text).toBe(200)
    expect(names(await ext(f, 'ListRepositories', { ConnectionArn: one.arn }))).toEqual([
      'acme/lib',
    ])
  })

  it('sandbox: answers each kind as bitbucket.org does on the endpoints the adapter calls', async () => {
    const api = f.sb.apiUrl
    const get = (path: string, auth: string) =>
      fetch(`${api}${path}`, { headers: { Authorization: auth } })
    const bearer = (t: string) => `Bearer ${t}`
    const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`
    // An API token is Basic email:token only.
    expect((await get('/user', bearer(aliceApi))).status).toBe(401)
    expect((await get('/user', basic('alice@example.com', aliceApi))).status).toBe(200)
    expect((await get('/user', basic('alice', aliceApi))).status).toBe(401)
    // Access tokens have no user, and repository and project tokens no workspace.
    for (const t of [repoToken, projectToken]) {
      expect((await get('/user', bearer(t))).status).toBe(403)
      expect((await get('/workspaces/acme', bearer(t))).status).toBe(403)
    }
    expect((await get('/workspaces/acme', bearer(f.world.acmeToken))).status).toBe(200)
    expect((await get('/workspaces/acme/projects/CORE', bearer(projectToken))).status).toBe(200)
    expect((await get('/workspaces/acme/projects/CORE', bearer(repoToken))).status).toBe(403)
    // A repository token's listing: its own repository and the public ones.
    const listing = (await (
      await get('/repositories/acme?pagelen=100', bearer(repoToken))
    ).json()) as {
      values: { full_name: string; project: { key: string } }[]
    }
    expect(listing.values.map((v) => v.full_name).sort()).toEqual(['acme/app', 'acme/pub'])
    expect((await get('/repositories/acme/lib', bearer(repoToken))).status).toBe(404)
    const core = (await (
      await get('/repositories/acme/core-svc', bearer(projectToken))
    ).json()) as { project: { key: string } }
    expect(core.project.key).toBe('CORE')
    // Git: x-token-auth takes access tokens, not API tokens; API tokens take their own user.
    const git = (user: string, token: string, slug: string) => {
      const u = new URL(`${f.sb.url}/acme/${slug}.git`)
      u.username = user
      u.password = token
      return run('git', ['ls-remote', u.toString()], {
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
      })
    }
    await expect(git('x-token-auth', repoToken, 'app')).resolves.toBeTruthy()
    await expect(git('x-token-auth', repoToken, 'lib')).rejects.toThrow()
    await expect(git('x-token-auth', aliceApi, 'app')).rejects.toThrow()
    await expect(git('x-bitbucket-api-token-auth', aliceApi, 'app')).resolves.toBeTruthy()
    await expect(git('alice', aliceApi, 'app')).resolves.toBeTruthy()
  })
})
