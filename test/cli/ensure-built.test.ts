/**
 * scripts/ensure-built.js (`npm start`, `npm run demo`): builds dist/ when a source changed and only
 * then. Runs the real script and the real tsc on a small project of its own in a temporary folder,
 * laid out like Junction's (src/cli/main.ts, tsconfig.build.json), so the repository's dist/ is
 * never touched.
 */
import { spawnSync } from 'node:child_process'
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const repo = join(import.meta.dirname, '..', '..')
let root = ''

const ensure = (...args: string[]) => {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'ensure-built.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
  })
  return { code: r.status, stderr: r.stderr }
}
const builtMain = () => readFileSync(join(root, 'dist', 'cli', 'main.js'), 'utf8')

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'junction-ensure-built-'))
  mkdirSync(join(root, 'scripts'))
  copyFileSync(join(repo, 'scripts', 'ensure-built.js'), join(root, 'scripts', 'ensure-built.js'))
  symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'))
  writeFileSync(join(root, 'package.json'), '{ "type": "module" }\n')
  writeFileSync(
    join(root, 'tsconfig.json'),
    // No standard library (the few global types tsc needs are declared below): a build here
    // takes a fraction of the time of one that parses lib.es2022.d.ts.
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        noEmit: true,
        noLib: true,
        types: [],
      },
    }),
  )
  writeFileSync(
    join(root, 'tsconfig.build.json'),
    JSON.stringify({
      extends: './tsconfig.json',
      compilerOptions: { noEmit: false, outDir: 'dist', rootDir: 'src' },
      include: ['src'],
      exclude: ['src/**/*.test.ts'],
    }),
  )
  mkdirSync(join(root, 'src', 'cli'), { recursive: true })
  writeFileSync(
    join(root, 'src', 'globals.d.ts'),
    ['Array<T>', 'Boolean', 'Function', 'IArguments', 'Number', 'Object', 'RegExp', 'String']
      .map((t) => `interface ${t} {}\n`)
      .join(''),
  )
  writeFileSync(join(root, 'src', 'cli', 'main.ts'), "export const v: string = 'one'\n")
  writeFileSync(join(root, 'src', 'cli', 'main.test.ts'), 'export const t = 1\n')
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('scripts/ensure-built.js', () => {
  it('builds a fresh tree, then nothing while sources are unchanged, and again after an edit', () => {
    expect(ensure('--check')).toEqual({ code: 1, stderr: 'dist/ has not been built\n' })
    const first = ensure()
    expect(first.code).toBe(0)
    expect(first.stderr).toContain('Building dist/ (dist/ has not been built)')
    expect(builtMain()).toContain("'one'")

    const builtAt = statSync(join(root, 'dist', 'cli', 'main.js')).mtimeMs
    expect(ensure()).toEqual({ code: 0, stderr: '' })
    expect(ensure('--check')).toEqual({ code: 0, stderr: '' })
    expect(statSync(join(root, 'dist', 'cli', 'main.js')).mtimeMs).toBe(builtAt)

    // A test file is not built: editing one changes nothing.
    writeFileSync(join(root, 'src', 'cli', 'main.test.ts'), 'export const t = 2\n')
    expect(ensure('--check')).toEqual({ code: 0, stderr: '' })

    writeFileSync(join(root, 'src', 'cli', 'main.ts'), "export const v: string = 'two'\n")
    expect(ensure('--check')).toEqual({
      code: 1,
      stderr: 'src/cli/main.ts changed since the last build\n',
    })
    const second = ensure()
    expect(second.stderr).toContain('src/cli/main.ts changed since the last build')
    expect(builtMain()).toContain("'two'")
    expect(ensure()).toEqual({ code: 0, stderr: '' })

    // A removed source changes its folder's time.
    writeFileSync(join(root, 'src', 'cli', 'extra.ts'), 'export {}\n')
    ensure()
    unlinkSync(join(root, 'src', 'cli', 'extra.ts'))
    expect(ensure('--check')).toEqual({
      code: 1,
      stderr: 'src/cli changed since the last build\n',
    })
  }, 300_000)

  it('rebuilds after a change to the TypeScript configuration, and --force always builds', () => {
    ensure()
    const config = join(root, 'tsconfig.build.json')
    writeFileSync(config, readFileSync(config, 'utf8'))
    expect(ensure('--check').stderr).toBe('tsconfig.build.json changed since the last build\n')
    ensure()
    expect(ensure('--check').code).toBe(0)
    const forced = ensure('--force')
    expect(forced.code).toBe(0)
    expect(ensure('--check').code).toBe(0)
  }, 300_000)

  it('fails with tsc’s exit code and writes no stamp when the build fails', () => {
    writeFileSync(join(root, 'src', 'cli', 'main.ts'), "export const v: number = 'three'\n")
    const r = ensure()
    expect(r.code).not.toBe(0)
    expect(ensure('--check').code).toBe(1)
    writeFileSync(join(root, 'src', 'cli', 'main.ts'), "export const v: string = 'three'\n")
    expect(ensure().code).toBe(0)
    expect(builtMain()).toContain("'three'")
  }, 300_000)
})
