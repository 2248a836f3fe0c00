#!/usr/bin/env node
/**
 * Builds `dist/` only when it is older than its sources, so `npm start` and `npm run demo` start at
 * once on an unchanged tree and still rebuild after an edit (or a `git pull`).
 *
 *   node scripts/ensure-built.js           build when stale, otherwise do nothing
 *   node scripts/ensure-built.js --force   always build (`npm run build`, `prepare` of `npm ci`)
 *   node scripts/ensure-built.js --check   exit 1 when stale, 0 when current; builds nothing
 *
 * A successful build writes `dist/.build-stamp` holding the time the build *started*; dist is
 * current when that stamp exists and nothing the build reads changed after it: a file or folder
 * under src/ (test files aside; a folder's time changes when a file in it is added, removed or
 * renamed), tsconfig.json, tsconfig.build.json, package.json or package-lock.json. A file edited
 * while tsc runs is newer than the stamp, so the next start builds again. The comparison is by
 * modification time only: a file restored with an older time (e.g. `touch -d`) is not noticed;
 * `npm run build` then builds anyway.
 */
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import process from 'node:process'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const stampFile = join(root, 'dist', '.build-stamp')
const ROOT_INPUTS = ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json']

/** The newest modification time (ms) of the build's inputs, and the path that has it. */
export function newestInput() {
  let newest = { mtimeMs: 0, path: '' }
  const consider = (path, mtimeMs) => {
    if (mtimeMs > newest.mtimeMs) newest = { mtimeMs, path }
  }
  for (const name of ROOT_INPUTS) {
    const path = join(root, name)
    if (existsSync(path)) consider(path, statSync(path).mtimeMs)
  }
  const walk = (dir) => {
    consider(dir, statSync(dir).mtimeMs)
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.isFile() && !entry.name.endsWith('.test.ts'))
        consider(path, statSync(path).mtimeMs)
    }
  }
  walk(join(root, 'src'))
  return newest
}

/** Why dist must be built, or undefined when it is current. */
export function staleReason() {
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) return 'dist/ has not been built'
  let builtAt
  try {
    builtAt = JSON.parse(readFileSync(stampFile, 'utf8')).startedAt
  } catch {
    return 'dist/ has no build stamp'
  }
  if (typeof builtAt !== 'number') return 'dist/ has no build stamp'
  const newest = newestInput()
  return newest.mtimeMs > builtAt
    ? `${newest.path.slice(root.length + 1)} changed since the last build`
    : undefined
}

function build(reason) {
  const startedAt = Date.now()
  if (reason) process.stderr.write(`Building dist/ (${reason})…\n`)
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  })
  if (r.status !== 0) process.exit(r.status ?? 1)
  // tsc writes plain files; the package's bins must be executable for `npx junction` (npm marks
  // them only when it links them, which `npm ci` does before `prepare` has built them).
  const { bin = {} } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  for (const target of Object.values(bin)) {
    const path = join(root, target)
    if (existsSync(path)) chmodSync(path, statSync(path).mode | 0o111)
  }
  writeFileSync(stampFile, JSON.stringify({ startedAt }) + '\n')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const mode = process.argv[2]
  if (mode === '--force') build()
  else if (mode === '--check') {
    const reason = staleReason()
    if (reason) process.stderr.write(`${reason}\n`)
    process.exit(reason ? 1 : 0)
  } else if (mode === undefined) {
    const reason = staleReason()
    if (reason) build(reason)
  } else {
    process.stderr.write('usage: node scripts/ensure-built.js [--force | --check]\n')
    process.exit(2)
  }
}
