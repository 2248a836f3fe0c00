/**
 * @module bootstrap/root-credentials
 * The account root's access key (DESIGN contract): from `JUNCTION_ROOT_ACCESS_KEY_ID` and
 * `JUNCTION_ROOT_SECRET_ACCESS_KEY` when both are set; otherwise from `<data-dir>/credentials`,
 * which the first start writes (AWS shared-credentials format, profile `junction`, mode 0600).
 * The key is (re-)registered in the store at every start, encrypted under the master key.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { tighten } from './private-files.js'
import { join } from 'node:path'
import type { MasterKey } from '../crypto/master-key.js'
import { newAccessKeyId, newSecretAccessKey } from '../domain/ids.js'
import { rootArn } from '../iam/principal.js'
import type { Store } from '../store/store.js'

export const PROFILE = 'junction'

export interface RootCredentials {
  accessKeyId: string
  secretAccessKey: string
  /** Where they came from: `environment`, or the credentials file's path. */
  source: string
  /** True when this start created the credentials file. */
  created: boolean
}

/** Reads profile `junction` from a shared-credentials file. */
export function readCredentialsFile(
  path: string,
): { accessKeyId: string; secretAccessKey: string } | undefined {
  let profile = ''
  const values: Record<string, string> = {}
  for (const line of readFileSync(path, 'utf8').split(/\r?\n/)) {
    const section = /^\s*\[([^\]]+)\]\s*$/.exec(line)
    if (section) {
      profile = section[1]!.trim()
      continue
    }
    const kv = /^\s*([A-Za-z_]+)\s*=\s*(.*?)\s*$/.exec(line)
    if (kv && profile === PROFILE) values[kv[1]!] = kv[2]!
  }
  const accessKeyId = values['aws_access_key_id']
  const secretAccessKey = values['aws_secret_access_key']
  return accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined
}

export async function ensureRootCredentials(opts: {
  dataDir: string
  store: Store
  masterKey: MasterKey
  partition: string
  accountId: string
  region: string
  env?: NodeJS.ProcessEnv
}): Promise<RootCredentials> {
  const env = opts.env ?? process.env
  const file = join(opts.dataDir, 'credentials')
  let creds: RootCredentials
  const envId = env['JUNCTION_ROOT_ACCESS_KEY_ID']
  const envSecret = env['JUNCTION_ROOT_SECRET_ACCESS_KEY']
  if (envId && envSecret) {
    creds = {
      accessKeyId: envId,
      secretAccessKey: envSecret,
      source: 'environment',
      created: false,
    }
  } else {
    if (existsSync(file)) tighten(file)
    const existing = existsSync(file) ? readCredentialsFile(file) : undefined
    if (existing) creds = { ...existing, source: file, created: false }
    else {
      creds = {
        accessKeyId: newAccessKeyId(),
        secretAccessKey: newSecretAccessKey(),
        source: file,
        created: true,
      }
      const text =
        `# Junction root credentials for account ${opts.accountId}. Keep this file private.\n` +
        `[${PROFILE}]\n` +
        `aws_access_key_id = ${creds.accessKeyId}\n` +
        `aws_secret_access_key = ${creds.secretAccessKey}\n` +
        `region = ${opts.region}\n`
      writeFileSync(file, text, { mode: 0o600 })
    }
  }
  await opts.store.accessKeys.put({
    accessKeyId: creds.accessKeyId,
    accountId: opts.accountId,
    principalArn: rootArn(opts.partition, opts.accountId),
    secretCiphertext: opts.masterKey.encrypt(creds.secretAccessKey),
    status: 'Active',
    createdAt: Date.now(),
    kind: 'root',
  })
  return creds
}
