/**
 * Runs the AWS CLI (an independent client: botocore) against a test server.
 */
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { TestServer } from './server.js'

export const run = promisify(execFile)

/**
 * Writes an AWS config for profile `junction` into the server's data directory. AWS CLI v1 fetches
 * parameters that look like URLs (--provider-endpoint https://…) unless told not to.
 */
export function writeAwsConfig(server: TestServer): string {
  const file = join(server.dataDir, 'aws-config')
  writeFileSync(file, '[profile junction]\ncli_follow_urlparam = false\n')
  return file
}
