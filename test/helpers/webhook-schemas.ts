/**
 * Validates webhook payloads against a provider's published webhook description: an OpenAPI 3.1
 * document whose top-level `webhooks` map names, per event and action (`push`,
 * `pull-request-opened`), a `post` whose request body `$ref`s the payload's schema (GitHub's
 * `@octokit/openapi-webhooks`, subset in ../shared/spec/github). JSON Schema 2020-12, as 3.1 is.
 */
import { readFileSync } from 'node:fs'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'

interface WebhooksDocument {
  webhooks: Record<
    string,
    { post?: { requestBody?: { content?: Record<string, { schema?: { $ref?: string } }> } } }
  >
  components?: unknown
}

export interface WebhookValidator {
  /** The webhook entries the document describes (`push`, `installation-created`, …). */
  names: string[]
  /** The schema's validation errors for `body` (empty when valid); throws for an unknown name. */
  errors(name: string, body: unknown): unknown[]
  /**
   * Paths of keys in `body` the schema does not declare (not in `properties` of the schema or
   * any of its `allOf`/`anyOf`/`oneOf` branches, where no branch opens `additionalProperties`
   * with a schema): keys a payload would invent. Validation alone allows them.
   */
  undeclared(name: string, body: unknown): string[]
}

type Schema = Record<string, unknown>

export function webhookValidator(file: string, id: string): WebhookValidator {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as WebhooksDocument
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false })
  ;(addFormats as unknown as (a: Ajv2020) => void)(ajv)
  ajv.addSchema({ $id: id, components: doc.components })
  const cache = new Map<string, ValidateFunction>()
  function validatorFor(name: string): ValidateFunction {
    const cached = cache.get(name)
    if (cached) return cached
    const ref = doc.webhooks[name]?.post?.requestBody?.content?.['application/json']?.schema?.$ref
    const validate = ref ? ajv.getSchema(`${id}${ref}`) : undefined
    if (!validate) throw new Error(`webhook ${name} is not described in ${file}`)
    cache.set(name, validate)
    return validate
  }
  const components = (doc.components ?? {}) as { schemas?: Record<string, Schema> }
  const resolve = (sc: Schema): Schema => {
    const ref = sc['$ref']
    if (typeof ref !== 'string') return sc
    const target = components.schemas?.[ref.replace('#/components/schemas/', '')]
    if (!target) throw new Error(`unresolved ${ref}`)
    return resolve(target)
  }
  /** The schema and its composed branches, flattened and resolved. */
  const branches = (sc: Schema): Schema[] => {
    const r = resolve(sc)
    const nested = ['allOf', 'anyOf', 'oneOf'].flatMap((k) =>
      Array.isArray(r[k]) ? (r[k] as Schema[]).flatMap(branches) : [],
    )
    return [r, ...nested]
  }
  function undeclared(schemas: Schema[], v: unknown, path: string): string[] {
    const all = schemas.flatMap(branches)
    if (Array.isArray(v)) {
      const items = all
        .map((s) => s['items'])
        .filter((x): x is Schema => !!x && typeof x === 'object')
      return items.length === 0 ? [] : v.flatMap((x, i) => undeclared(items, x, `${path}[${i}]`))
    }
    if (v === null || typeof v !== 'object') return []
    const open = all.some(
      (s) => s['additionalProperties'] !== undefined && s['additionalProperties'] !== false,
    )
    const out: string[] = []
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const subs = all
        .map((s) => (s['properties'] as Record<string, Schema> | undefined)?.[k])
        .filter((x): x is Schema => x !== undefined)
      if (subs.length === 0) {
        if (!open) out.push(`${path}.${k}`)
        continue
      }
      out.push(...undeclared(subs, x, `${path}.${k}`))
    }
    return out
  }
  const rootOf = (name: string): Schema => {
    const ref = doc.webhooks[name]?.post?.requestBody?.content?.['application/json']?.schema?.$ref
    if (!ref) throw new Error(`webhook ${name} is not described in ${file}`)
    return { $ref: ref }
  }

  return {
    names: Object.keys(doc.webhooks),
    undeclared: (name, body) => undeclared([rootOf(name)], body, '$'),
    errors(name, body) {
      const validate = validatorFor(name)
      return validate(body) ? [] : (validate.errors ?? []).slice(0, 8)
    },
  }
}
