import { describe, expect, it } from 'vitest'
import { ProviderNotFound, ProviderRequestFailed } from '../errors.js'
import { GitHubProvider } from './github-provider.js'
import { nextLink, repoUrl, splitFullName, underApi } from './urls.js'

const API = 'https://api.github.com'

describe('GitHub URLs', () => {
  it('sends a branch or ref with slashes as one encoded segment', () => {
    expect(repoUrl(API, 'octo-org/my.repo_1', 'branches', 'release/1.0')).toBe(
      'https://api.github.com/repos/octo-org/my.repo_1/branches/release%2F1.0',
    )
    expect(repoUrl(API, 'o/r', 'branches', 'feat/ü #1?x=%')).toBe(
      'https://api.github.com/repos/o/r/branches/feat%2F%C3%BC%20%231%3Fx%3D%25',
    )
    expect(repoUrl('https://ghe.example.com/api/v3', 'o/r', 'compare', 'a...b')).toBe(
      'https://ghe.example.com/api/v3/repos/o/r/compare/a...b',
    )
  })

  it.each([
    'owner',
    'a/b/c',
    '-owner/repo',
    'own--er/repo',
    'owner/re po',
    'owner/..',
    'owner/',
    `${'a'.repeat(40)}/repo`,
    `o/${'r'.repeat(101)}`,
    'o/r%2F..',
  ])('refuses %j as a repository id', (name) => {
    expect(() => splitFullName(name)).toThrow(ProviderNotFound)
  })

  it('accepts the longest names GitHub allows', () => {
    expect(splitFullName(`${'a'.repeat(39)}/${'r'.repeat(100)}`)).toHaveLength(2)
    expect(splitFullName('a-b-c/.github')).toEqual(['a-b-c', '.github'])
  })

  it('follows Link rel="next" only under the API base', () => {
    const link =
      '<https://api.github.com/repositories/1/branches?page=1>; rel="prev", ' +
      '<https://api.github.com/repositories/1/branches?page=3>; rel="next", ' +
      '<https://api.github.com/repositories/1/branches?page=9>; rel="last"'
    expect(nextLink(link)).toBe('https://api.github.com/repositories/1/branches?page=3')
    expect(nextLink('<https://api.github.com/x?page=9>; rel="last"')).toBeUndefined()
    expect(nextLink(null)).toBeUndefined()
    expect(() => underApi(API, 'https://evil.example/repos')).toThrow(ProviderRequestFailed)
    expect(() => underApi(API, 'https://api.github.com.evil.example/x')).toThrow(
      ProviderRequestFailed,
    )
  })
})

describe('GitHub adapter without the network', () => {
  const app = {
    clientId: 'Iv23li',
    clientSecret: 's',
    callbackUrl: 'https://j.example/oauth/github/callback',
    slug: 'junction-app',
  }
  it('sends the browser to the app installation page (github.com and GHES)', () => {
    const gh = new GitHubProvider({ app })
    expect(gh.authorizationUrl('st/ate').toString()).toBe(
      'https://github.com/apps/junction-app/installations/new?state=st%2Fate',
    )
    const ghes = new GitHubProvider({
      type: 'GitHubEnterpriseServer',
      app,
      endpoints: { webUrl: 'https://ghe.example.com/', apiUrl: 'https://ghe.example.com/api/v3' },
    })
    expect(ghes.authorizationUrl('s').toString()).toBe(
      'https://ghe.example.com/github-apps/junction-app/installations/new?state=s',
    )
    expect(ghes.capabilities.hosts).toBe(true)
    expect(ghes.gitHost()).toBe('ghe.example.com')
    expect(() => new GitHubProvider({}).authorizationUrl('s')).toThrow(ProviderRequestFailed)
  })

  it('web links, clone credentials and app-level webhooks', async () => {
    const gh = new GitHubProvider({ app })
    expect(gh.webLinks('o/r', 'abc')).toEqual({
      repository: 'https://github.com/o/r',
      commit: 'https://github.com/o/r/commit/abc',
    })
    expect(gh.cloneCredentials({ kind: 'oauth', accessToken: 'ghu_x' }, 'o/r')).toEqual({
      url: 'https://github.com/o/r.git',
      username: 'x-access-token',
      password: 'ghu_x',
    })
    const installation = {
      kind: 'github-installation' as const,
      installationId: '7',
      accessToken: '',
    }
    expect(() => gh.cloneCredentials(installation, 'o/r')).toThrow(/gitCredentials/)
    const fresh = { ...installation, accessToken: 'ghs_tok', expiresAt: Date.now() + 3_600_000 }
    expect(gh.cloneCredentials(fresh, 'o/r').password).toBe('ghs_tok')
    expect(await gh.registerWebhook()).toEqual({ id: 'app' })
    await expect(gh.deleteWebhook()).resolves.toBeUndefined()
  })

  it('refuses malformed ids before any request', async () => {
    const gh = new GitHubProvider({ app })
    const c = { kind: 'oauth' as const, accessToken: 't' }
    await expect(gh.getCommit(c, 'o/r', 'not-a-sha')).rejects.toBeInstanceOf(ProviderNotFound)
    await expect(gh.getRepository(c, 'o/r/x')).rejects.toBeInstanceOf(ProviderNotFound)
    await expect(gh.verifyInstallation('12; drop')).rejects.toBeInstanceOf(ProviderNotFound)
    await expect(gh.getPullRequest(c, 'o/r', 0)).rejects.toBeInstanceOf(ProviderNotFound)
    await expect(
      gh.getBranch({ kind: 'github-installation', accessToken: '' }, 'o/r', 'main'),
    ).rejects.toThrow(/names no installation/)
  })
})
