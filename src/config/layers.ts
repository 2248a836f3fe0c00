/**
 * @module config/layers
 * Where each setting of `junction serve` comes from, in rising precedence: its default, the
 * configuration file (`--config`, else `JUNCTION_CONFIG`), the environment (`JUNCTION_<KEY>`),
 * the command line. A higher layer replaces a lower one whichever form it uses (a secret's value
 * or its `-file`); giving both forms in one layer is an error. A secret read from a file loses one
 * trailing newline; a secret file, or a configuration file holding secrets, that every user may
 * read is used with a warning (secrets mounted by container platforms often are 0444).
 *
 * The result is what `configFromFlags` reads (every value as a flag, and an environment without
 * the settings' variables, so it cannot reorder them) and where each value came from, for
 * `junction config check` and to name the line of a value that `configFromFlags` refuses.
 */
import { readFileSync, statSync } from 'node:fs'
import { ConfigError, configFromFlags, type Config, type ServeFlags } from '../config.js'
import { readConfigFile, type ConfigFile } from './file.js'
import { FILE_KEYS, SETTINGS, type Setting } from './keys.js'

export type Source =
  | { from: 'default' }
  /** `key` is the key as written (`<secret>-file` when the value was read from a file). */
  | { from: 'file'; path: string; line: number; key: string }
  | { from: 'env'; name: string }
  | { from: 'flag'; name: string }

export interface Resolved {
  setting: Setting
  value: string | boolean | undefined
  source: Source
  /** The file a secret was read from. */
  secretFile?: string
}

export interface Layered {
  /** The configuration file, if one was given. */
  file: ConfigFile | undefined
  /** Every setting, in `SETTINGS` order. */
  settings: Resolved[]
  /** What `configFromFlags` reads. */
  flags: ServeFlags
  env: NodeJS.ProcessEnv
  /** Files that every user may read yet hold secrets. */
  warnings: string[]
}

type Args = Record<string, string | boolean | undefined>

/** One layer's view of a setting: its value or its file form, with where each was written. */
interface Found {
  value: string | boolean
  source: Source
  /** `junction.yaml:3: database-file`, `--database-file`, `JUNCTION_DATABASE_URL_FILE`. */
  label: string
}

export function layerSettings(flags: Args, env: NodeJS.ProcessEnv): Layered {
  const configPath =
    (flags['config'] as string | undefined) ?? (env['JUNCTION_CONFIG'] || undefined)
  const file = configPath === undefined ? undefined : readConfigFile(configPath)
  const warnings: string[] = []
  const settings = SETTINGS.map((s) => resolve(s, flags, env, file, warnings))
  if (file && file.mode & 0o004) {
    // Whether or not a higher layer overrides them, they are on disk.
    const inline = [...file.values.keys()].filter((k) => {
      const known = FILE_KEYS.get(k)
      return known && known.setting.secret && !known.isFile
    })
    if (inline.length)
      warnings.push(
        `${file.path} holds secrets (${inline.join(', ')}) and every user may read it (mode ${octal(file.mode)}): chmod 600 it, or give them as <key>-file`,
      )
  }
  const out: ServeFlags = {}
  const rest: NodeJS.ProcessEnv = { ...env }
  for (const s of SETTINGS) {
    delete rest[s.env]
    if (s.secret) delete rest[`${s.env}_FILE`]
  }
  for (const r of settings) {
    if (r.value === undefined) continue
    // A secret without a flag of its own (a PEM key) reaches its reader as its variable.
    if (r.setting.flag) out[r.setting.key] = r.value
    else rest[r.setting.env] = String(r.value)
  }
  return { file, settings, flags: out, env: rest, warnings }
}

/** The serve configuration from all layers; a refused value is named where it was written. */
export function loadServeConfig(
  flags: Args,
  env: NodeJS.ProcessEnv,
): { config: Config; layered: Layered } {
  const layered = layerSettings(flags, env)
  try {
    return { config: configFromFlags(layered.flags, layered.env), layered }
  } catch (err) {
    if (err instanceof ConfigError) throw attribute(err, layered.settings)
    throw err
  }
}

function resolve(
  s: Setting,
  flags: Args,
  env: NodeJS.ProcessEnv,
  file: ConfigFile | undefined,
  warnings: string[],
): Resolved {
  const layers: [Found | undefined, Found | undefined][] = [
    [
      s.flag ? fromFlag(flags, s.key) : undefined,
      s.fileKey ? fromFlag(flags, s.fileKey) : undefined,
    ],
    [fromEnv(env, s.env, s.type), s.secret ? fromEnv(env, `${s.env}_FILE`, 'string') : undefined],
    [fromFile(file, s.key), s.fileKey ? fromFile(file, s.fileKey) : undefined],
  ]
  for (const [direct, viaFile] of layers) {
    if (direct && viaFile)
      throw new ConfigError(
        `${prefixOf(viaFile.source)}give ${plain(direct.label)} or ${plain(viaFile.label)}, not both`,
      )
    if (direct) return { setting: s, value: direct.value, source: direct.source }
    if (viaFile) {
      const path = String(viaFile.value)
      return {
        setting: s,
        value: readSecret(path, viaFile, warnings),
        source: viaFile.source,
        secretFile: path,
      }
    }
  }
  return { setting: s, value: undefined, source: { from: 'default' } }
}

function fromFlag(flags: Args, name: string): Found | undefined {
  const value = flags[name]
  if (value === undefined) return undefined
  return { value, source: { from: 'flag', name: `--${name}` }, label: `--${name}` }
}

function fromEnv(
  env: NodeJS.ProcessEnv,
  name: string,
  type: 'string' | 'boolean',
): Found | undefined {
  const raw = env[name]
  // Empty is unset, as a shell's `X= junction serve` means.
  if (raw === undefined || raw === '') return undefined
  let value: string | boolean = raw
  if (type === 'boolean') {
    if (raw !== 'true' && raw !== 'false' && raw !== '1' && raw !== '0')
      throw new ConfigError(`${name} must be true or false, got '${raw}'`)
    value = raw === 'true' || raw === '1'
  }
  return { value, source: { from: 'env', name }, label: name }
}

function fromFile(file: ConfigFile | undefined, key: string): Found | undefined {
  const v = file?.values.get(key)
  if (!file || !v) return undefined
  return {
    value: v.value,
    source: { from: 'file', path: file.path, line: v.line, key },
    label: `${file.path}:${v.line}: ${key}`,
  }
}

/** A secret from its file: the content without one trailing newline. */
function readSecret(path: string, found: Found, warnings: string[]): string {
  const what = plain(found.label)
  const at = prefixOf(found.source)
  let text: string
  let mode: number
  try {
    text = readFileSync(path, 'utf8')
    mode = statSync(path).mode & 0o777
  } catch (err) {
    throw new ConfigError(
      `${at}cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    )
  }
  const value = text.replace(/\r?\n$/, '')
  if (!value) throw new ConfigError(`${at}${what} ${path} is empty`)
  if (mode & 0o004)
    warnings.push(
      `${found.label} ${path} is a secret every user may read (mode ${octal(mode)}): chmod o-r it`,
    )
  return value
}

/** `junction.yaml:3: ` for a value from the file, else nothing. */
function prefixOf(source: Source): string {
  return source.from === 'file' ? `${source.path}:${source.line}: ` : ''
}

/** A label without its file position (`database-file`). */
function plain(label: string): string {
  return label.replace(/^.*:\d+: /, '')
}

const octal = (mode: number) => `0${mode.toString(8).padStart(3, '0')}`

/**
 * A ConfigError about `--<key>` whose value came from the file or the environment, told where:
 * `junction.yaml:3: port must be …`, `JUNCTION_PORT: port must be …`.
 */
function attribute(err: ConfigError, settings: Resolved[]): ConfigError {
  // The first setting a message names is the one it refuses.
  const m = /--([a-z0-9-]+)/.exec(err.message)
  const r = m && settings.find((x) => x.setting.key === m[1] || x.setting.fileKey === m[1])
  if (!m || !r || r.source.from === 'default' || r.source.from === 'flag') return err
  const message = err.message.replace(m[0], m[1]!)
  return new ConfigError(
    r.source.from === 'file'
      ? `${r.source.path}:${r.source.line}: ${message}`
      : `${r.source.name}: ${message}`,
  )
}
