/**
 * Runs `junction serve` as a child process (the real bin from dist/) and waits for readiness.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'

export const BIN = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js')

export interface ServeProcess {
  child: ChildProcess
  url: string
  stdout: () => string
  stderr: () => string
  /** Resolves with the exit code. */
  exited: Promise<number | null>
}

export async function spawnServe(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--host', '127.0.0.1', '--port', '0', ...args],
    {
      env: { PATH: process.env['PATH'], HOME: process.env['HOME'], ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let out = ''
  let err = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => {
      // Never leave a half-started server behind.
      child.kill('SIGKILL')
      reject(new Error(`junction did not start:\n${out}\n${err}`))
    }, 20_000)
    const check = () => {
      const line = out.split('\n').find((l) => l.includes('junction is listening'))
      if (line) {
        clearTimeout(timer)
        resolveUrl((JSON.parse(line) as { url: string }).url)
      }
    }
    child.stdout!.on('data', check)
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`junction exited with ${code}:\n${out}\n${err}`))
    })
  })
  return { child, url, stdout: () => out, stderr: () => err, exited }
}

/** Runs the bin to completion (for flag errors, help, version). */
export function runBin(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('exit', (code) => resolveRun({ code, stdout, stderr }))
  })
}
