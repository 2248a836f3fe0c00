/**
 * What some suites need from the machine (a tool, PostgreSQL, root) and what happens when it is
 * missing. Locally the suite is skipped and named `[needs …]`, and the skip reporter
 * (`test/skip-reporter.ts`) counts such skips loudly at the end of the run. In CI
 * (`JUNCTION_TEST_REQUIRE_ALL=1`, set by `.ci/run`) a missing requirement is a failing test instead,
 * so a machine without the tool can never turn the suite silently green.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'vitest'
import { pgUrl } from './engines.js'

export interface Requirement {
  /** Shown in the suite name and the failure: what is missing and how to get it. */
  what: string
  met: boolean
}

/** CI sets this: every requirement must be met. */
export const requireAll = process.env['JUNCTION_TEST_REQUIRE_ALL'] === '1'

const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

function onPath(tool: string): string | undefined {
  return SYSTEM_PATH.split(':')
    .map((d) => join(d, tool))
    .find((p) => existsSync(p))
}

function runs(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 20_000 })
    return true
  } catch {
    return false
  }
}

export const needs = {
  postgres: {
    what: 'PostgreSQL (set TEST_DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/test)',
    met: Boolean(pgUrl),
  },
  aws: { what: 'the AWS CLI (`aws`; Debian: awscli)', met: runs('aws', ['--version']) },
  root: { what: 'root (builds run as other uids in namespaces)', met: process.getuid?.() === 0 },
  slirp4netns: { what: 'slirp4netns (Debian: slirp4netns)', met: Boolean(onPath('slirp4netns')) },
} satisfies Record<string, Requirement>

function missing(reqs: Requirement[]): Requirement[] {
  return reqs.filter((r) => !r.met)
}

function label(name: string, gone: Requirement[]): string {
  return `${name} [needs ${gone.map((r) => r.what).join('; ')}]`
}

function failure(gone: Requirement[]): () => never {
  return () => {
    throw new Error(
      `missing on this machine: ${gone.map((r) => r.what).join('; ')}. CI must provide it (.ci/run).`,
    )
  }
}

/** `describe` when every requirement is met; otherwise skipped locally, failing in CI. */
export function describeWith(...reqs: Requirement[]) {
  return (name: string, fn: () => void): void => {
    const gone = missing(reqs)
    if (!gone.length) describe(name, fn)
    else if (requireAll) describe(name, () => it('has what it needs', failure(gone)))
    else describe.skip(label(name, gone), fn)
  }
}

/** `it` when every requirement is met; otherwise skipped locally, failing in CI. */
export function itWith(...reqs: Requirement[]) {
  return (name: string, fn: () => Promise<void> | void, timeout?: number): void => {
    const gone = missing(reqs)
    if (!gone.length) it(name, fn, timeout)
    else if (requireAll) it(name, failure(gone))
    else it.skip(label(name, gone), fn)
  }
}
