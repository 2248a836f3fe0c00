/**
 * Validates a sandbox's answers against a provider's published OpenAPI description: the schema a
 * document declares for a path template, method and status (as a `$ref` into its components, or
 * inline). One validator per document; a second provider's sandbox test builds its own with its
 * document (`openApiValidator(path, 'github')`).
 */
import { readFileSync } from 'node:fs'
import { Ajv, type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import { expect } from 'vitest'

interface Operation {
  responses?: Record<string, { content?: Record<string, { schema?: Record<string, unknown> }> }>
}

interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>
  components?: unknown
}

export interface OpenApiValidator {
  /** Fails the test unless `body` matches the schema declared for the template, method, status. */
  expectValid(template: string, method: string, status: number, body: unknown): void
  /** The schema's validation errors (empty when valid); throws when the answer is not described. */
  errors(template: string, method: string, status: number, body: unknown): unknown[]
}

/**
 * Loads an OpenAPI 3 document (JSON) and returns a validator for answers described in it.
 * `id` names the document inside Ajv, so `$ref`s such as `#/components/schemas/x` resolve.
 */
export function openApiValidator(
  file: string,
  id: string,
  o: { mediaType?: string } = {},
): OpenApiValidator {
  const doc = openApi30Nullable(JSON.parse(readFileSync(file, 'utf8'))) as OpenApiDocument
  const mediaType = o.mediaType ?? 'application/json'
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false })
  ;(addFormats as unknown as (a: Ajv) => void)(ajv)
  ajv.addSchema({ $id: id, components: doc.components })
  const cache = new Map<string, ValidateFunction>()
  let inline = 0

  function validatorFor(template: string, method: string, status: number) {
    const key = `${method} ${template} ${status}`
    const cached = cache.get(key)
    if (cached) return cached
    const responses = doc.paths[template]?.[method.toLowerCase()]?.responses
    let response = responses?.[String(status)] as
      { $ref?: string; content?: Record<string, { schema?: Record<string, unknown> }> } | undefined
    // A response may be a `$ref` to `#/components/responses/<name>` (GitHub's not_found, …).
    const responseRef = response?.$ref
    if (typeof responseRef === 'string' && responseRef.startsWith('#/components/responses/'))
      response = (doc.components as { responses?: Record<string, typeof response> } | undefined)
        ?.responses?.[responseRef.slice('#/components/responses/'.length)]
    const schema = response?.content?.[mediaType]?.schema
    if (!schema) return undefined
    const ref = schema['$ref']
    const validate = typeof ref === 'string' ? ajv.getSchema(`${id}${ref}`) : compileInline(schema)
    if (validate) cache.set(key, validate)
    return validate
  }

  // An inline schema may still point into the document's components: resolve against `id`.
  function compileInline(schema: Record<string, unknown>): ValidateFunction {
    return ajv.compile({ $id: `${id}-inline-${++inline}`, ...rebase(schema) } as object)
  }
  function rebase(v: unknown): Record<string, unknown> {
    return JSON.parse(JSON.stringify(v).replace(/"\$ref":"#\//g, `"$ref":"${id}#/`)) as Record<
      string,
      unknown
    >
  }

  function errors(template: string, method: string, status: number, body: unknown): unknown[] {
    const validate = validatorFor(template, method, status)
    if (!validate) throw new Error(`${method.toUpperCase()} ${template} ${status} is not described`)
    return validate(body) ? [] : (validate.errors ?? []).slice(0, 5)
  }

  return {
    errors,
    expectValid(template, method, status, body) {
      const validate = validatorFor(template, method, status)
      expect(validate, `${method} ${template} ${status} is described`).toBeDefined()
      expect(
        validate!(body) ? [] : validate!.errors!.slice(0, 5),
        `${method.toUpperCase()} ${template} → ${status}`,
      ).toEqual([])
    },
  }
}

/**
 * OpenAPI 3.0's `nullable: true` beside `allOf`/`anyOf`/`oneOf`/`$ref` and no `type` (GitHub's
 * descriptions have many) means "this, or null"; Ajv takes `nullable` only next to a `type`, so
 * such a schema becomes `anyOf: [schema, {type: 'null'}]`. Schemas with a `type` are left to Ajv.
 */
function openApi30Nullable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(openApi30Nullable)
  if (!v || typeof v !== 'object') return v
  const o: Record<string, unknown> = {}
  for (const [k, x] of Object.entries(v)) o[k] = openApi30Nullable(x)
  if (o['nullable'] === true && o['type'] === undefined) {
    const { nullable: _n, ...rest } = o
    void _n
    return { anyOf: [rest, { type: 'null' }] }
  }
  return o
}
