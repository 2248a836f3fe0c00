/**
 * The example systemd unit of docs/operating.md is accepted by `systemd-analyze verify` (which
 * checks every directive and that the commands exist), and it starts and probes what Junction
 * serves: `serve` on the port its readiness probe asks `/ready` of.
 */
import { execFile, execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { itWith } from '../helpers/requirements.js'

const unit = join(import.meta.dirname, '..', '..', 'docs', 'junction.service')
const systemdAnalyze = {
  what: 'systemd-analyze (Debian: systemd) and node at /usr/bin/node, as the unit names it',
  met: (() => {
    try {
      execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore' })
      execFileSync('/usr/bin/node', ['--version'], { stdio: 'ignore' })
      return true
    } catch {
      return false
    }
  })(),
}

describe('docs/junction.service', () => {
  itWith(systemdAnalyze)('is accepted by systemd-analyze verify', async () => {
    const r = await promisify(execFile)('systemd-analyze', ['verify', unit])
    expect(r.stderr).toBe('')
  })

  it('starts junction serve and waits for /ready on the port it serves', () => {
    const text = readFileSync(unit, 'utf8').replace(/\\\n\s*/g, ' ')
    const start =
      /^ExecStart=\/usr\/bin\/node \/opt\/junction\/dist\/cli\/main\.js serve (.*)$/m.exec(text)
    expect(start).not.toBeNull()
    const port = /--port (\d+)/.exec(start![1]!)![1]
    expect(text).toMatch(new RegExp(`^ExecStartPost=.*http://127\\.0\\.0\\.1:${port}/ready`, 'm'))
  })
})
