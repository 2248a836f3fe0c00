/** GitLab's CompleteConnection members and `junction connections complete` flags. */
import { describe, expect, it } from 'vitest'
import { InvalidInputException } from '../../generated/errors.js'
import { gitlab } from './index.js'

const spec = gitlab.completion
const parse = (i: Record<string, unknown>) => spec.parse(i, 1_000)

describe('GitLab completion', () => {
  it('reads a personal access token for a whole namespace, which needs Maintainer', () => {
    const r = parse({ Workspace: 'acme/platform', AccessToken: 't' })
    expect(r).toMatchObject({
      target: 'acme/platform',
      credentialKind: 'personal-access-token',
      credentials: { kind: 'access-token', accessToken: 't' },
    })
    expect(r.credentials.level).toBeUndefined()
    expect(r.administratorRequired).toMatch(/Maintainer role on it/)
  })

  it('round-trips each CredentialType, and narrows to a project below the namespace', () => {
    for (const t of ['PersonalAccessToken', 'GroupAccessToken', 'ProjectAccessToken', 'OAuth']) {
      const r = parse({ Workspace: 'acme', AccessToken: 't', TokenType: t, Repository: 'app' })
      expect(spec.credentialType(r.credentialKind)).toBe(t)
      expect(r.credentials.reach).toEqual({ repository: 'app' })
      expect(r.administratorRequired).toBeUndefined()
    }
    const project = parse({
      Workspace: 'acme/platform',
      AccessToken: 't',
      TokenType: 'ProjectAccessToken',
      Repository: 'acme/platform/tools/api',
    })
    expect(project.credentials).toMatchObject({
      kind: 'access-token',
      level: 'repository',
      reach: { repository: 'tools/api' },
    })
    const group = parse({ Workspace: 'acme', AccessToken: 't', TokenType: 'GroupAccessToken' })
    expect(group.credentials.level).toBe('workspace')
  })

  it('takes an OAuth token with its refresh token and lifetime', () => {
    const r = parse({
      Workspace: 'alice',
      AccessToken: 'a',
      TokenType: 'OAuth',
      RefreshToken: 'r',
      ExpiresIn: 7200,
    })
    expect(r.credentials).toEqual({
      kind: 'oauth',
      accessToken: 'a',
      refreshToken: 'r',
      expiresAt: 1_000 + 7_200_000,
    })
  })

  it('refuses what a kind cannot take, as InvalidInputException', () => {
    for (const bad of [
      { Workspace: 'acme', AccessToken: 't', TokenType: 'ProjectAccessToken' },
      { Workspace: 'acme', AccessToken: 't', TokenType: 'WorkspaceAccessToken' },
      { Workspace: 'acme', AccessToken: 't', RefreshToken: 'r' },
      { Workspace: 'acme', AccessToken: 't', Repository: '../x' },
      { Workspace: 'acme//x', AccessToken: 't' },
      { Workspace: 'acme', AccessToken: '' },
      { AccessToken: 't' },
    ])
      expect(() => parse(bad), JSON.stringify(bad)).toThrow(InvalidInputException)
  })

  it('turns the CLI flags into the members the parser takes', () => {
    const cli = spec.cli
    const tools = {
      usage: (m: string) => new Error(`usage: ${m}`),
      secret: (file: string) => `secret of ${file}`,
    }
    expect(cli.input({ namespace: 'acme/platform' }, tools)).toEqual({
      Workspace: 'acme/platform',
      TokenType: 'PersonalAccessToken',
    })
    expect(
      cli.input({ namespace: 'acme', 'token-type': 'project', repository: 'tools/api' }, tools),
    ).toEqual({ Workspace: 'acme', TokenType: 'ProjectAccessToken', Repository: 'tools/api' })
    expect(cli.input({ namespace: 'a', oauth: true, 'refresh-token-file': '/r' }, tools)).toEqual({
      Workspace: 'a',
      TokenType: 'OAuth',
      RefreshToken: 'secret of /r',
    })
    expect(() => cli.input({}, tools)).toThrow('usage: --namespace is required')
    expect(() => cli.input({ namespace: 'a', 'token-type': 'deploy' }, tools)).toThrow(
      /--token-type must be one of personal, group, project, oauth/,
    )
    expect(cli.summary({ Workspace: 'acme', InstallationId: 'i' })).toBe(
      'GitLab namespace acme, installation i',
    )
  })
})

describe('GitLab descriptor', () => {
  const tools = {
    httpUrl: (_flag: string, v: string) => v.replace(/\/+$/, ''),
    error: (m: string) => new Error(m),
  }

  it('defaults to gitlab.com, and puts REST under /api/v4 of a given URL', () => {
    expect(gitlab.readConfig({}, {}, tools)).toEqual({
      endpoints: { webUrl: 'https://gitlab.com', apiUrl: 'https://gitlab.com/api/v4' },
      app: {},
    })
    const c = gitlab.readConfig(
      { 'gitlab-url': 'http://127.0.0.1:7992/' },
      { JUNCTION_GITLAB_CLIENT_ID: 'id', JUNCTION_GITLAB_CLIENT_SECRET: 's' },
      tools,
    )
    expect(c).toEqual({
      endpoints: { webUrl: 'http://127.0.0.1:7992', apiUrl: 'http://127.0.0.1:7992/api/v4' },
      app: { clientId: 'id', clientSecret: 's' },
    })
    expect(() => gitlab.readConfig({ 'gitlab-client-id': 'id' }, {}, tools)).toThrow(/both/)
  })
})
