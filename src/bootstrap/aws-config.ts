/**
 * @module bootstrap/aws-config
 * The AWS `config` file beside `credentials` in the data directory: profile `junction` with the
 * region and the API endpoint (`endpoint_url`, honoured by botocore 1.31+ / AWS CLI v1.29+ and v2,
 * and the AWS SDKs), so that with the three variables `exportLines` prints any AWS client reaches
 * Junction with no flags, with the root key or with a user's keys in AWS_ACCESS_KEY_ID/…
 *
 * The file is the user's once edited. Junction writes it when it is missing and rewrites it (a new
 * port, region or public URL) only while it is exactly as Junction wrote it, which a checksum in
 * its first line records. An edited file is kept; a `[profile junction]` missing from it is
 * appended; values that differ from this start's are reported, never changed. Mode 0600.
 */
import { createHash } from 'node:crypto'
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tighten } from './private-files.js'
import { PROFILE } from './root-credentials.js'

export interface AwsConfigResult {
  /** The config file's path. */
  path: string
  /** What this start did: wrote the file, rewrote Junction's unedited file, appended the profile to
   *  the user's file, or kept it as it was. */
  action: 'created' | 'updated' | 'appended' | 'kept'
  /** Keys of profile `junction` whose values differ from this start's (in a file kept as edited). */
  differs: { key: string; found: string; expected: string }[]
}

const CHECKSUM = /^# Written by Junction \(unedited: ([0-9a-f]{16})\)/

const checksum = (body: string) => createHash('sha256').update(body).digest('hex').slice(0, 16)

function profileLines(region: string, endpointUrl: string): string {
  return (
    `[profile ${PROFILE}]\n` +
    `region = ${region}\n` +
    `endpoint_url = ${endpointUrl}\n` +
    // AWS CLI v1 fetches parameters that look like URLs (--provider-endpoint https://…) unless
    // told not to; other clients ignore the key.
    `cli_follow_urlparam = false\n`
  )
}

/** The values of one profile's keys in an AWS config file's text. */
export function readProfile(text: string, profile = PROFILE): Record<string, string> | undefined {
  let inside = false
  let found = false
  const values: Record<string, string> = {}
  for (const line of text.split(/\r?\n/)) {
    const section = /^\s*\[([^\]]+)\]\s*$/.exec(line)
    if (section) {
      inside = section[1]!.trim().replace(/\s+/g, ' ') === `profile ${profile}`
      found ||= inside
      continue
    }
    const kv = /^\s*([A-Za-z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line)
    if (inside && kv) values[kv[1]!] = kv[2]!
  }
  return found ? values : undefined
}

export function ensureAwsConfig(opts: {
  dataDir: string
  region: string
  endpointUrl: string
}): AwsConfigResult {
  const path = join(opts.dataDir, 'config')
  const body =
    `# Profile ${PROFILE}: Junction's region and API endpoint for the AWS CLI and SDKs (with\n` +
    `# AWS_CONFIG_FILE=<this file> AWS_PROFILE=${PROFILE}). Junction rewrites this file at start\n` +
    `# (a new port or public URL) only while it is unedited; once you edit it, it is yours.\n` +
    profileLines(opts.region, opts.endpointUrl)
  const full = `# Written by Junction (unedited: ${checksum(body)})\n${body}`
  if (!existsSync(path)) {
    writeFileSync(path, full, { mode: 0o600, flag: 'wx' })
    return { path, action: 'created', differs: [] }
  }
  tighten(path)
  const text = readFileSync(path, 'utf8')
  const first = text.indexOf('\n')
  const mark = CHECKSUM.exec(text.slice(0, first < 0 ? text.length : first))
  if (mark && checksum(text.slice(first + 1)) === mark[1]) {
    if (text === full) return { path, action: 'kept', differs: [] }
    writeFileSync(path, full, { mode: 0o600 })
    return { path, action: 'updated', differs: [] }
  }
  const values = readProfile(text)
  if (values === undefined) {
    const sep = text === '' || text.endsWith('\n\n') ? '' : text.endsWith('\n') ? '\n' : '\n\n'
    appendFileSync(path, sep + profileLines(opts.region, opts.endpointUrl))
    return { path, action: 'appended', differs: [] }
  }
  const expected: Record<string, string> = { region: opts.region, endpoint_url: opts.endpointUrl }
  const differs = Object.entries(expected)
    .filter(([key, value]) => values[key] !== value)
    .map(([key, value]) => ({ key, found: values[key] ?? '(not set)', expected: value }))
  return { path, action: 'kept', differs }
}

/** A path as a POSIX shell word. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}

/**
 * The lines that point AWS clients at Junction: the config file, the credentials file (when the
 * root key lives in one) and the profile.
 */
export function exportLines(configFile: string, credentialsFile: string | undefined): string[] {
  return [
    `export AWS_CONFIG_FILE=${shellWord(configFile)}`,
    ...(credentialsFile
      ? [`export AWS_SHARED_CREDENTIALS_FILE=${shellWord(credentialsFile)}`]
      : []),
    `export AWS_PROFILE=${PROFILE}`,
  ]
}

/** What `junction serve` and `junction demo` print about AWS clients at start. */
export interface AwsClientSetup {
  config: AwsConfigResult | undefined
  /** What was written, and values of an edited file that no longer match this start's. */
  notes: string[]
  /** The `export` lines (empty when the config file could not be written). */
  exports: string[]
  /** Notes, then the export lines indented under one explaining line. */
  message: string
}

/** Writes (or keeps) the config file for this start and says how to use it. */
export function awsClientSetup(opts: {
  dataDir: string
  region: string
  endpointUrl: string
  root: { source: string; created: boolean }
}): AwsClientSetup {
  const notes: string[] = []
  if (opts.root.created)
    notes.push(`Root credentials written to ${opts.root.source} (profile ${PROFILE}).`)
  let config: AwsConfigResult
  try {
    config = ensureAwsConfig(opts)
  } catch (err) {
    // The server runs on; only the convenience file is missing.
    notes.push(
      `Warning: could not write the AWS config file in ${opts.dataDir}: ${(err as Error).message}`,
    )
    return { config: undefined, notes, exports: [], message: notes.join('\n') + '\n' }
  }
  const fromFile = opts.root.source !== 'environment'
  if (config.action !== 'kept')
    notes.push(
      `AWS config ${config.action === 'appended' ? 'profile appended to' : 'written to'} ${config.path} ` +
        `(profile ${PROFILE}: region ${opts.region}, endpoint_url ${opts.endpointUrl}).`,
    )
  for (const d of config.differs)
    notes.push(
      `Warning: ${config.path} (edited, so Junction leaves it) sets ${d.key} = ${d.found} in profile ` +
        `${PROFILE}; this Junction's is ${d.expected}. Edit that line, or delete the file to have it written again.`,
    )
  if (!fromFile)
    notes.push(
      'The root key is the one in JUNCTION_ROOT_ACCESS_KEY_ID: give it to AWS clients as AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.',
    )
  const exports = exportLines(config.path, fromFile ? opts.root.source : undefined)
  const message = [
    ...notes,
    'Point the AWS CLI and SDKs at Junction (then `aws codestar-connections list-connections` needs no flags):',
    ...exports.map((l) => `  ${l}`),
  ]
  return { config, notes, exports, message: message.join('\n') + '\n' }
}
