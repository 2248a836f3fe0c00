/**
 * @module protocol/validate
 * The one generic validator, driven by the generated tables. Type mismatches are
 * `SerializationException`s (the input could not be read as the shape); constraint failures are
 * collected and reported as one Coral-style `ValidationException`:
 * "2 validation errors detected: Value 'x' at 'connectionName' failed to satisfy constraint: …; …".
 * Checks per member follow AWS's order: required, type, length/range, pattern, enum; a string
 * member holding U+0000 is refused whatever its pattern (PostgreSQL text cannot store it).
 * Unknown members are ignored, as AWS does.
 */
import { SerializationException, ValidationException } from '../errors/common.js'
import type { ShapeRule, ValidationTable } from './validation-types.js'

const patternCache = new Map<string, RegExp>()

function fullMatch(pattern: string): RegExp {
  let re = patternCache.get(pattern)
  if (!re) {
    // botocore patterns are unanchored; the Smithy models anchor them: validate as full matches.
    re = new RegExp(`^(?:${pattern})$`)
    patternCache.set(pattern, re)
  }
  return re
}

const lowerFirst = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1)

function show(value: unknown): string {
  let text: string
  if (Array.isArray(value))
    text = `[${value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(', ')}]`
  else if (typeof value === 'object' && value !== null) text = JSON.stringify(value)
  else text = String(value)
  return text.length > 128 ? `${text.slice(0, 128)}...` : text
}

function typeName(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'list'
  return typeof v === 'object' ? 'structure' : typeof v
}

class Checker {
  readonly errors: string[] = []
  constructor(readonly table: ValidationTable) {}

  #fail(value: unknown, path: string, constraint: string): void {
    const shown = value === undefined || value === null ? 'null' : `'${show(value)}'`
    this.errors.push(`Value ${shown} at '${path}' failed to satisfy constraint: ${constraint}`)
  }

  check(shapeName: string, value: unknown, path: string): void {
    const rule = this.table.shapes[shapeName]
    if (!rule) throw new Error(`no validation rule for shape ${shapeName}`)
    this.#checkType(rule, value, path)
    switch (rule.type) {
      case 'string': {
        const s = value as string
        if (rule.min !== undefined && s.length < rule.min)
          this.#fail(s, path, `Member must have length greater than or equal to ${rule.min}`)
        if (rule.max !== undefined && s.length > rule.max)
          this.#fail(s, path, `Member must have length less than or equal to ${rule.max}`)
        if (rule.pattern !== undefined && !fullMatch(rule.pattern).test(s))
          this.#fail(s, path, `Member must satisfy regular expression pattern: ${rule.pattern}`)
        if (rule.enum && !rule.enum.includes(s))
          this.#fail(s, path, `Member must satisfy enum value set: [${rule.enum.join(', ')}]`)
        // No AWS text member carries U+0000, and PostgreSQL text cannot hold it: refused for
        // every string member, whatever its pattern (many are [\s\S]* or have none).
        else if (s.includes('\u0000') && (!rule.pattern || fullMatch(rule.pattern).test(s)))
          this.#fail(s, path, 'Member must not contain the NUL character (U+0000)')
        break
      }
      case 'integer':
      case 'long': {
        const n = value as number
        if (rule.min !== undefined && n < rule.min)
          this.#fail(n, path, `Member must have value greater than or equal to ${rule.min}`)
        if (rule.max !== undefined && n > rule.max)
          this.#fail(n, path, `Member must have value less than or equal to ${rule.max}`)
        break
      }
      case 'list': {
        const list = value as unknown[]
        if (rule.min !== undefined && list.length < rule.min)
          this.#fail(list, path, `Member must have length greater than or equal to ${rule.min}`)
        if (rule.max !== undefined && list.length > rule.max)
          this.#fail(list, path, `Member must have length less than or equal to ${rule.max}`)
        list.forEach((item, i) => {
          const itemPath = `${path}.${i + 1}.member`
          if (item === null || item === undefined)
            this.#fail(item, itemPath, 'Member must not be null')
          else this.check(rule.member, item, itemPath)
        })
        break
      }
      case 'structure':
        this.structure(rule, value as Record<string, unknown>, path)
        break
      case 'map': {
        const entries = Object.entries(value as Record<string, unknown>)
        if (rule.min !== undefined && entries.length < rule.min)
          this.#fail(value, path, `Member must have length greater than or equal to ${rule.min}`)
        if (rule.max !== undefined && entries.length > rule.max)
          this.#fail(value, path, `Member must have length less than or equal to ${rule.max}`)
        for (const [k, v] of entries) {
          this.check(rule.key, k, `${path}.${k}`)
          if (v === null || v === undefined)
            this.#fail(v, `${path}.${k}`, 'Member must not be null')
          else this.check(rule.value, v, `${path}.${k}`)
        }
        break
      }
      default:
        break
    }
  }

  structure(
    rule: Extract<ShapeRule, { type: 'structure' }>,
    obj: Record<string, unknown>,
    path: string,
  ): void {
    const prefix = path ? `${path}.` : ''
    for (const [member, shape] of Object.entries(rule.members)) {
      const value = obj[member]
      const memberPath = prefix + lowerFirst(member)
      if (value === undefined || value === null) {
        if (rule.required?.includes(member))
          this.#fail(value, memberPath, 'Member must not be null')
        continue
      }
      this.check(shape, value, memberPath)
    }
    // Members the model does not know are ignored, as AWS's JSON services ignore them: dropped
    // here, so nothing outside the model is stored or echoed (an unknown member could carry
    // anything, a NUL included, past every check above).
    for (const key of Object.keys(obj)) if (!(key in rule.members)) delete obj[key]
  }

  #checkType(rule: ShapeRule, value: unknown, path: string): void {
    let ok: boolean
    switch (rule.type) {
      case 'string':
        ok = typeof value === 'string'
        break
      case 'integer':
      case 'long':
        ok = typeof value === 'number' && Number.isSafeInteger(value)
        break
      case 'boolean':
        ok = typeof value === 'boolean'
        break
      case 'timestamp':
        ok = typeof value === 'number' && Number.isFinite(value)
        break
      case 'list':
        ok = Array.isArray(value)
        break
      case 'structure':
      case 'map':
        ok = typeof value === 'object' && value !== null && !Array.isArray(value)
        break
    }
    if (!ok)
      throw new SerializationException(
        `Expected ${rule.type === 'long' ? 'integer' : rule.type} at '${path}' but found ${typeName(value)}`,
      )
  }
}

/**
 * Validates `input` (already parsed JSON) for `operation` and returns it typed. Throws
 * `SerializationException` or `ValidationException`.
 */
export function validateInput(table: ValidationTable, operation: string, input: unknown): void {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new SerializationException(
      `Expected a JSON object as the request body but found ${typeName(input)}`,
    )
  const shapeName = table.operations[operation]
  if (!shapeName) return
  const rule = table.shapes[shapeName]
  if (rule?.type !== 'structure') return
  const checker = new Checker(table)
  checker.structure(rule, input as Record<string, unknown>, '')
  const n = checker.errors.length
  if (n > 0)
    throw new ValidationException(
      `${n} validation error${n === 1 ? '' : 's'} detected: ${checker.errors.join('; ')}`,
    )
}
