/**
 * Validates answers against AWS's own service models (botocore's `service-2.json`): given a model,
 * a shape name and a response (parsed JSON here; Query XML in model-xml.ts), lists every
 * violation with its path — required members missing, wrong types, enums, patterns, lengths and
 * sizes, ranges, and members the shape does not have.
 *
 * The models are read where they are: the connections and CodePipeline models from the shared
 * specs, IAM and STS from botocore's data (installed with the AWS CLI / boto3, Debian
 * python3-botocore). A missing model throws: the contract test must never pass without it.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'

export interface ShapeRef {
  shape: string
  locationName?: string
  flattened?: boolean
}

export interface Shape {
  type:
    | 'structure'
    | 'list'
    | 'map'
    | 'string'
    | 'integer'
    | 'long'
    | 'boolean'
    | 'timestamp'
    | 'blob'
    | 'double'
    | 'float'
  members?: Record<string, ShapeRef>
  required?: string[]
  member?: ShapeRef
  key?: ShapeRef
  value?: ShapeRef
  enum?: string[]
  pattern?: string
  min?: number
  max?: number
  flattened?: boolean
  document?: boolean
  exception?: boolean
  error?: { code?: string; httpStatusCode?: number }
  timestampFormat?: string
}

export interface Model {
  metadata: {
    protocol: string
    serviceId: string
    targetPrefix?: string
    signingName?: string
    jsonVersion?: string
  }
  operations: Record<
    string,
    {
      name: string
      input?: { shape: string }
      output?: { shape: string; resultWrapper?: string }
      errors?: { shape: string }[]
    }
  >
  shapes: Record<string, Shape>
}

function readModel(file: string): Model {
  const buf = readFileSync(file)
  return JSON.parse((file.endsWith('.gz') ? gunzipSync(buf) : buf).toString('utf8')) as Model
}

const SHARED = join(import.meta.dirname, '..', '..', '..', 'shared')

/** A model of the shared specs: `codestar-connections`, `codeconnections` or `codepipeline`. */
export function sharedModel(name: 'codestar-connections' | 'codeconnections' | 'codepipeline') {
  return readModel(join(SHARED, 'spec', 'aws-models', name, 'service-2.json'))
}

/** Where botocore's data directory is on this machine, or undefined. */
function botocoreData(): string | undefined {
  const candidates: string[] = []
  if (process.env['JUNCTION_BOTOCORE_DATA']) candidates.push(process.env['JUNCTION_BOTOCORE_DATA'])
  for (const python of ['python3', '/usr/bin/python3']) {
    try {
      const dir = execFileSync(
        python,
        ['-c', 'import botocore, os; print(os.path.dirname(botocore.__file__))'],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 20_000 },
      ).trim()
      if (dir) candidates.push(join(dir, 'data'))
    } catch {
      // not installed for this interpreter
    }
  }
  // Debian's python3-botocore, and the botocore Debian's awscli (v2) carries inside.
  candidates.push(
    '/usr/lib/python3/dist-packages/botocore/data',
    '/usr/lib/python3/dist-packages/awscli/botocore/data',
  )
  return candidates.find((d) => existsSync(join(d, 'iam')) && existsSync(join(d, 'sts')))
}

/** botocore's own IAM, STS or CloudTrail model (the newest API version it has); throws when missing. */
export function botocoreModel(service: 'iam' | 'sts' | 'cloudtrail'): Model {
  const data = botocoreData()
  if (!data)
    throw new Error(
      `botocore's ${service} model is not on this machine: install the AWS CLI, boto3 or Debian's python3-botocore (.ci/run does), or set JUNCTION_BOTOCORE_DATA to botocore's data directory`,
    )
  const versions = readdirSync(join(data, service)).sort()
  const dir = join(data, service, versions[versions.length - 1]!)
  const file = ['service-2.json', 'service-2.json.gz']
    .map((f) => join(dir, f))
    .find((f) => existsSync(f))
  if (!file) throw new Error(`no service-2.json under ${dir}`)
  return readModel(file)
}

/** The error codes a model lists for an operation (the shape's `error.code`, else its name). */
export function operationErrors(model: Model, operation: string): string[] {
  const op = model.operations[operation]
  if (!op) return []
  return (op.errors ?? []).flatMap((e) => {
    const code = model.shapes[e.shape]?.error?.code
    return code && code !== e.shape ? [e.shape, code] : [e.shape]
  })
}

const patterns = new Map<string, RegExp>()
/**
 * The model's pattern as a full match (as the input validator reads them). Java-isms: `\p{L}`
 * classes need the `u` flag, while `u` refuses needless escapes such as `\:`; each pattern is
 * compiled with `u` when it can be, else without (only patterns without `\p` get there).
 */
function patternOf(p: string): RegExp {
  let re = patterns.get(p)
  if (!re) {
    try {
      re = new RegExp(`^(?:${p})$`, 'u')
    } catch (err) {
      if (p.includes('\\p')) throw err
      re = new RegExp(`^(?:${p})$`)
    }
    patterns.set(p, re)
  }
  return re
}

export const show = (v: unknown): string => {
  const s = JSON.stringify(v)
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s
}

/** Checks a string against the shape's enum, pattern and length. */
export function checkString(shape: Shape, s: string, path: string, out: string[]): void {
  const length = [...s].length
  if (shape.min !== undefined && length < shape.min)
    out.push(`${path}: length ${length} is below the minimum ${shape.min} (${show(s)})`)
  if (shape.max !== undefined && length > shape.max)
    out.push(`${path}: length ${length} is above the maximum ${shape.max} (${show(s)})`)
  if (shape.enum && !shape.enum.includes(s))
    out.push(`${path}: ${show(s)} is not one of the enum ${show(shape.enum)}`)
  if (shape.pattern !== undefined && !patternOf(shape.pattern).test(s))
    out.push(`${path}: ${show(s)} does not match the pattern ${shape.pattern}`)
}

export function checkRange(shape: Shape, n: number, path: string, out: string[]): void {
  if (shape.min !== undefined && n < shape.min)
    out.push(`${path}: ${n} is below the minimum ${shape.min}`)
  if (shape.max !== undefined && n > shape.max)
    out.push(`${path}: ${n} is above the maximum ${shape.max}`)
}

export function checkSize(shape: Shape, size: number, path: string, out: string[]): void {
  if (shape.min !== undefined && size < shape.min)
    out.push(`${path}: ${size} entries, below the minimum ${shape.min}`)
  if (shape.max !== undefined && size > shape.max)
    out.push(`${path}: ${size} entries, above the maximum ${shape.max}`)
}

export const INT32 = 2 ** 31
export const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
export const ISO8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})$/

/**
 * Validates a parsed AWS JSON value against `shapeName` (timestamps are epoch seconds, blobs
 * base64, as the JSON protocols write them). Returns the violations.
 */
export function validateJson(model: Model, shapeName: string, value: unknown, path = '$') {
  const out: string[] = []
  walkJson(model, shapeName, value, path, out)
  return out
}

function walkJson(model: Model, name: string, value: unknown, path: string, out: string[]): void {
  const shape = model.shapes[name]
  if (!shape) throw new Error(`shape ${name} is not in the model`)
  if (shape.document) return
  if (value === null) {
    out.push(`${path}: null (AWS leaves an absent member out)`)
    return
  }
  const wrong = (what: string) => out.push(`${path}: ${show(value)} is not ${what} (${name})`)
  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object' || Array.isArray(value)) return void wrong('a structure')
      const obj = value as Record<string, unknown>
      for (const r of shape.required ?? [])
        if (obj[r] === undefined) out.push(`${path}: required member ${r} is missing (${name})`)
      for (const [k, v] of Object.entries(obj)) {
        const m = shape.members?.[k]
        if (!m) out.push(`${path}.${k}: not a member of ${name}`)
        else walkJson(model, m.shape, v, `${path}.${k}`, out)
      }
      return
    }
    case 'list':
      if (!Array.isArray(value)) return void wrong('a list')
      checkSize(shape, value.length, path, out)
      value.forEach((v, i) => walkJson(model, shape.member!.shape, v, `${path}[${i}]`, out))
      return
    case 'map':
      if (typeof value !== 'object' || Array.isArray(value)) return void wrong('a map')
      checkSize(shape, Object.keys(value).length, path, out)
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        walkJson(model, shape.key!.shape, k, `${path}{key ${show(k)}}`, out)
        walkJson(model, shape.value!.shape, v, `${path}[${show(k)}]`, out)
      }
      return
    case 'string':
      if (typeof value !== 'string') return void wrong('a string')
      return checkString(shape, value, path, out)
    case 'integer':
    case 'long':
      if (typeof value !== 'number' || !Number.isInteger(value))
        return void wrong(`an integer (${shape.type})`)
      if (shape.type === 'integer' && (value < -INT32 || value >= INT32))
        out.push(`${path}: ${value} is out of a 32-bit integer's range`)
      return checkRange(shape, value, path, out)
    case 'double':
    case 'float':
      if (typeof value !== 'number' || !Number.isFinite(value)) return void wrong('a number')
      return checkRange(shape, value, path, out)
    case 'boolean':
      if (typeof value !== 'boolean') wrong('a boolean')
      return
    case 'timestamp':
      if (typeof value !== 'number' || !Number.isFinite(value)) wrong('a timestamp (epoch seconds)')
      return
    case 'blob':
      if (typeof value !== 'string' || !BASE64.test(value)) wrong('a blob (base64)')
      return
    default:
      out.push(`${path}: shape type ${String(shape.type)} is not understood by this validator`)
  }
}
