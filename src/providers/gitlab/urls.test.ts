/** Project ids, nested paths as one `:id` segment, and GitLab's pagination headers. */
import { describe, expect, it } from 'vitest'
import { ProviderNotFound, ProviderRequestFailed } from '../errors.js'
import { nextPage, projectId, projectUrl, revision, underApi } from './urls.js'

const API = 'https://gitlab.example.com/api/v4'

describe('project ids', () => {
  it('encodes a nested path whole, as one segment, and takes a numeric id as it is', () => {
    expect(projectId('acme/platform/tools/api')).toBe('acme%2Fplatform%2Ftools%2Fapi')
    expect(projectId('mike/diaspora')).toBe('mike%2Fdiaspora')
    expect(projectId('4711')).toBe('4711')
    expect(projectUrl(API, 'acme/platform/api', 'repository', 'branches', 'release/1.0')).toBe(
      `${API}/projects/acme%2Fplatform%2Fapi/repository/branches/release%2F1.0`,
    )
    expect(projectUrl(API, 'a/b', 'repository', 'archive.zip')).toBe(
      `${API}/projects/a%2Fb/repository/archive.zip`,
    )
  })

  it('refuses what cannot be a project, before any request', () => {
    for (const bad of [
      'single',
      'a//b',
      '/a/b',
      'a/b/',
      'a/../b',
      'a/./b',
      'a/b c',
      'a/b?x=1',
      'a/b#c',
      'a/-b',
      '0',
      `${'a/'.repeat(23)}b`,
    ])
      expect(() => projectId(bad), bad).toThrow(ProviderNotFound)
  })

  it('takes commit ids and branch names as revisions, but not revision expressions', () => {
    expect(revision('da1560886d4f')).toBe('da1560886d4f')
    expect(revision('release/1.0')).toBe('release/1.0')
    for (const bad of ['', 'main~1', 'main^', 'a..b', 'HEAD@{1}', '-x', 'a b', 'x:y'])
      expect(() => revision(bad), bad).toThrow(ProviderNotFound)
  })
})

describe('pagination', () => {
  const url = `${API}/groups/acme/projects?per_page=2&page=1`
  it("follows Link's rel=next first", () => {
    const h = new Headers({
      link: `<${API}/groups/acme/projects?page=1&per_page=2>; rel="first", <${API}/groups/acme/projects?page=2&per_page=2>; rel="next", <${API}/groups/acme/projects?page=3&per_page=2>; rel="last"`,
      'x-next-page': '7',
    })
    expect(nextPage(url, h)).toBe(`${API}/groups/acme/projects?page=2&per_page=2`)
  })

  it('else sets X-Next-Page on the same URL, and stops when it is empty', () => {
    expect(nextPage(url, new Headers({ 'x-next-page': '2' }))).toBe(
      `${API}/groups/acme/projects?per_page=2&page=2`,
    )
    expect(nextPage(url, new Headers({ 'x-next-page': '' }))).toBeUndefined()
    expect(nextPage(url, new Headers({ 'x-next-page': 'x' }))).toBeUndefined()
    expect(nextPage(url, new Headers())).toBeUndefined()
  })

  it('hands back only page tokens under the API base', () => {
    expect(underApi(API, `${API}/projects?page=2`)).toBe(`${API}/projects?page=2`)
    for (const bad of ['https://evil.example/api/v4/projects', `${API}.evil.example/x`])
      expect(() => underApi(API, bad)).toThrow(ProviderRequestFailed)
  })
})
