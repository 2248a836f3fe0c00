import { describe, expect, it } from 'vitest'
import {
  FULL_REPOSITORY_ID_PATTERN,
  REPOSITORY_ID_PATTERN,
  isFullRepositoryId,
  isNumericRepositoryId,
  isRepositoryId,
  pathInTarget,
  splitRepositoryId,
  withinTarget,
} from './repository-id.js'

describe('repository ids', () => {
  it('accepts owner/name and nested namespaces, refuses everything else', () => {
    for (const ok of ['acme/api', 'acme/platform/tools/api', 'a.b/c-d_e', 'ws/.hidden'])
      expect([ok, isRepositoryId(ok), REPOSITORY_ID_PATTERN.test(ok)]).toEqual([ok, true, true])
    for (const bad of [
      'acme',
      '/acme/api',
      'acme/api/',
      'acme//api',
      'acme/../api',
      '../acme',
      'acme/.',
      'acme/a pi',
      'acme/\tapi',
      '',
    ])
      expect([bad, isRepositoryId(bad), REPOSITORY_ID_PATTERN.test(bad)]).toEqual([
        bad,
        false,
        false,
      ])
    expect(isRepositoryId(`a/${'b/'.repeat(21)}c`)).toBe(false)
    expect(isRepositoryId(`a/${'b'.repeat(600)}`)).toBe(false)
  })

  it('splits at the last slash', () => {
    expect(splitRepositoryId('acme/api')).toEqual({ owner: 'acme', name: 'api' })
    expect(splitRepositoryId('acme/platform/tools/api')).toEqual({
      owner: 'acme/platform/tools',
      name: 'api',
    })
  })

  it('places a repository within a target at any depth, and nothing beside it', () => {
    expect(withinTarget('acme/api', 'acme')).toBe(true)
    expect(withinTarget('ACME/Api', 'acme')).toBe(true)
    expect(withinTarget('acme/platform/tools/api', 'acme/platform')).toBe(true)
    expect(withinTarget('acme-tools/api', 'acme')).toBe(false)
    expect(withinTarget('acme/api', 'acme/platform')).toBe(false)
    expect(withinTarget('acme/platform', 'acme/platform')).toBe(false)
    expect(withinTarget('acme/../other/api', 'acme')).toBe(false)
    expect(withinTarget('acme/api', '')).toBe(false)
    expect(pathInTarget('acme/platform/tools/api', 'acme/platform')).toBe('tools/api')
    expect(pathInTarget('acme/api', 'acme')).toBe('api')
    expect(pathInTarget('other/api', 'acme')).toBeUndefined()
  })

  it('accepts a numeric id as a FullRepositoryId, never as a path within a target', () => {
    for (const ok of ['42', '0', '9'.repeat(20)])
      expect([ok, isNumericRepositoryId(ok), isFullRepositoryId(ok)]).toEqual([ok, true, true])
    for (const bad of ['', '-1', '4 2', '42a', '1'.repeat(21), '+42', '4.2', '42/'])
      expect([bad, isNumericRepositoryId(bad)]).toEqual([bad, false])
    for (const id of ['42', 'acme/api', 'acme/platform/tools/api'])
      expect([id, FULL_REPOSITORY_ID_PATTERN.test(id)]).toEqual([id, true])
    for (const bad of ['api', '1'.repeat(21), '42 ', 'acme/..', '../42', 'a b/c'])
      expect([bad, FULL_REPOSITORY_ID_PATTERN.test(bad), isFullRepositoryId(bad)]).toEqual([
        bad,
        false,
        false,
      ])
    // A numeric id is resolved to its path before any scope decision: alone it is within nothing.
    expect(isRepositoryId('42')).toBe(false)
    expect(withinTarget('42', 'acme')).toBe(false)
  })
})
