/**
 * `junction demo` across providers: --help, a provider it does not know, and the default
 * (Bitbucket) demo printing its steps (the GitHub demo's path: demo-github.test.ts).
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, it, vi } from 'vitest'
import { waitFor } from '../helpers/pipelines.js'
import { BIN, runBin } from '../helpers/process.js'

vi.setConfig({ testTimeout: 60_000 })

it('junction demo --help names the providers and exits 0', async () => {
  const r = await runBin(['demo', '--help'])
  expect(r.code).toBe(0)
  expect(r.stdout).toMatch(/^Usage: junction demo \[--provider bitbucket\|github\|gitlab\]/)
  expect(r.stdout).toMatch(/--provider github +the sandbox GitHub/)
  expect(r.stdout).toMatch(/--provider gitlab +the sandbox GitLab/)
})

it('refuses a provider without a demo, saying which exist', async () => {
  const r = await runBin(['demo', '--provider', 'azure', '--port', '0'])
  expect(r.code).not.toBe(0)
  expect(r.stderr).toMatch(/--provider must be bitbucket, github or gitlab, got 'azure'/)
})

it('runs the Bitbucket demo by default and prints its steps', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'junction-demo-'))
  const child = spawn(
    process.execPath,
    [BIN, 'demo', '--port', '0', '--sandbox-port', '0', '--data-dir', dir],
    {
      env: { PATH: process.env['PATH'], HOME: process.env['HOME'] },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise((r) => child.once('exit', r))
  try {
    await waitFor(
      'the demo to print its steps',
      async () => (out.includes('Then watch it:') ? true : undefined),
      30_000,
    )
    expect(out).toMatch(/Sandbox Bitbucket: http:\/\/127\.0\.0\.1:\d+/)
    expect(out).toContain(
      'aws codestar-connections create-connection --provider-type Bitbucket --connection-name demo',
    )
    expect(out).toMatch(
      /npx junction connections complete --connection-arn <arn> --workspace demo-team/,
    )
  } finally {
    child.kill('SIGTERM')
    await exited
    rmSync(dir, { recursive: true, force: true })
  }
})
