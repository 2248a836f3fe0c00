/**
 * @module protocol/json-body
 * The JSON body of an AWS JSON 1.0/1.1 request: an object, with every member set to `null` read
 * as absent (as AWS reads it, and as the validator does), so no handler ever sees a `null` where
 * the model has an optional member.
 */
import { SerializationException } from '../errors/common.js'

const withoutNulls = (_k: string, v: unknown): unknown =>
  v !== null && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null))
    : v

/** Parses a request body; an empty one is `{}`. Throws `SerializationException` otherwise. */
export function parseJsonBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {}
  const text = body.toString('utf8')
  let parsed: unknown
  try {
    // Hot path: most bodies hold no null, and JSON.parse is fastest without a reviver.
    parsed = text.includes('null') ? JSON.parse(text, withoutNulls) : JSON.parse(text)
  } catch {
    throw new SerializationException('The request body is not valid JSON')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new SerializationException('The request body must be a JSON object')
  return parsed as Record<string, unknown>
}
