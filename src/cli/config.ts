/**
 * @module cli/config
 * `junction config check [--config <file>] [serve flags]`: reads the settings exactly as
 * `junction serve` would (defaults < file < environment < flags, docs/configuration.md), refuses
 * what serve would refuse (exit 2, the file's line named), and otherwise prints every setting with
 * its value, secrets redacted, and where it came from. It creates nothing and starts nothing.
 */
import { parseArgs } from 'node:util'
import { loadServeConfig, type Resolved } from '../config/layers.js'
import { SERVE_OPTIONS } from '../config/keys.js'
import { scrub } from '../store/database-url.js'

export const CONFIG_USAGE = `Usage:
  junction config check [--config <file>] [junction serve flags]

check  Reads the settings as junction serve would: its defaults, then the configuration file
       (--config, else $JUNCTION_CONFIG), then JUNCTION_<KEY> environment variables, then the
       flags, each overriding the one before. Refuses what serve would refuse (exit 2, naming
       the file's line); otherwise prints every setting, where it came from, secrets redacted.
       Creates nothing. Keys and precedence: docs/configuration.md
`

export async function configCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: SERVE_OPTIONS,
    allowPositionals: true,
    strict: true,
  })
  if (values['help'] || positionals[0] !== 'check' || positionals.length > 1) {
    process.stdout.write(CONFIG_USAGE)
    return values['help'] ? 0 : 2
  }
  const { config, layered } = loadServeConfig(values, process.env)
  for (const w of layered.warnings) process.stderr.write(`junction: warning: ${w}\n`)
  const rows = layered.settings.map((r) => [r.setting.key, shown(r), sourceOf(r)] as const)
  const width = (i: 0 | 1) => Math.min(40, Math.max(...rows.map((row) => row[i].length)))
  const pad = (s: string, n: number) => (s.length >= n ? `${s} ` : s.padEnd(n + 1))
  const lines = [
    `${layered.file ? `${layered.file.path}: valid` : 'No configuration file: valid'} (precedence: flag > env > file > default)`,
    '',
    `${pad('KEY', width(0))}${pad('VALUE', width(1))}FROM`,
    ...rows.map(([k, v, from]) => `${pad(k, width(0))}${pad(v, width(1))}${from}`),
    '',
    `Serves ${config.publicUrl} from ${config.host}:${config.port}; data directory ${config.dataDir}; database ${redactUrl(config.database)}`,
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
  return 0
}

/** The value as shown: a secret redacted (a URL keeps all but its password). */
function shown(r: Resolved): string {
  if (r.value === undefined) return r.setting.shownDefault || '-'
  const v = String(r.value)
  if (!r.setting.secret) return v
  try {
    new URL(v)
    return redactUrl(v)
  } catch {
    return '(secret, redacted)'
  }
}

function redactUrl(url: string): string {
  return scrub(url, url)
}

function sourceOf(r: Resolved): string {
  const via = r.secretFile === undefined ? '' : ` (read from ${r.secretFile})`
  switch (r.source.from) {
    case 'default':
      return 'default'
    case 'file':
      return `file ${r.source.path}:${r.source.line}${r.source.key === r.setting.key ? '' : ` ${r.source.key}`}${via}`
    case 'env':
      return `env ${r.source.name}${via}`
    case 'flag':
      return `flag ${r.source.name}${via}`
  }
}
