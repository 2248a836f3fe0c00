/**
 * Every `npx junction …` command the README and docs/ show resolves as written after `npm ci`
 * (issue 15 item 2): npx finds the project's own bin (package.json `bin`), and each command and
 * subcommand used answers `--help` with exit 0, so the documentation cannot name one that does not
 * exist. The quick path's npm scripts exist too.
 */
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { BIN } from '../helpers/process.js'

const run = promisify(execFile)
const repo = join(import.meta.dirname, '..', '..')
const pages = [
  'README.md',
  ...readdirSync(join(repo, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f)),
]

/** The code of a Markdown page: fenced blocks and inline spans (a span may wrap lines). */
function codeOf(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/^```[^\n]*\n([\s\S]*?)^```/gm)].map((m) => m[1]!)
  const prose = markdown.replace(/^```[^\n]*\n[\s\S]*?^```/gm, '')
  const spans = [...prose.matchAll(/`([^`]+)`/g)].map((m) => m[1]!.replace(/\s*\n\s*/g, ' '))
  return [...blocks, ...spans]
}

/** The command words after `npx junction` (flags, placeholders and values excluded). */
function commandsOf(code: string): string[][] {
  const out: string[][] = []
  for (const m of code.matchAll(/npx junction((?:[ \t]+[a-z][a-z-]*){0,3})/g)) {
    const words = m[1]!.trim().split(/\s+/).filter(Boolean)
    out.push(words)
  }
  return out
}

const documented = new Map<string, string>()
for (const page of pages)
  for (const code of codeOf(readFileSync(join(repo, page), 'utf8')))
    for (const words of commandsOf(code)) documented.set(words.join(' '), page)

describe('the documented junction commands', () => {
  it('are found in the README and docs/ (the extraction works)', () => {
    expect([...documented.keys()]).toEqual(
      expect.arrayContaining(['connections complete', 'iam explain', 'keys rotate', 'serve']),
    )
  })

  it('the quick path’s npm scripts exist: npm start, npm test, npm run demo', () => {
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
      bin: Record<string, string>
      scripts: Record<string, string>
    }
    expect(Object.keys(pkg.scripts)).toEqual(
      expect.arrayContaining(['start', 'test', 'demo', 'prepare']),
    )
    expect(pkg.bin['junction']).toBe('dist/cli/main.js')
    expect(readFileSync(join(repo, pkg.bin['junction']!), 'utf8')).toMatch(
      /^#!\/usr\/bin\/env node\n/,
    )
  })

  it('npx finds the project’s own junction bin (no download: --no)', async () => {
    const { stdout } = await run('npx', ['--no', 'junction', 'version'], {
      cwd: repo,
      env: { ...process.env, npm_config_update_notifier: 'false' },
    })
    expect(stdout.trim()).toMatch(/^junction \d+\.\d+\.\d+$/)
  }, 300_000)

  for (const [command, page] of documented)
    it(`npx junction ${command} (${page}) answers --help`, async () => {
      const { stdout } = await run(
        process.execPath,
        [BIN, ...command.split(' '), '--help'].filter(Boolean),
      )
      expect(stdout).toMatch(command === 'version' ? /^junction \d/ : /usage/i)
    }, 60_000)
})
