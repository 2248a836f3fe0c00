/**
 * @module domain/tags
 * Tag rules the model cannot express: the per-resource limit and reserved keys.
 */
import type { Tag } from '../generated/shapes.js'
import { ValidationException } from '../errors/common.js'
import { LimitExceededException } from '../generated/errors.js'

/** Keys starting with `aws:` are reserved for AWS, as on every AWS tagging API. */
export function checkTagKeys(keys: string[]): void {
  const reserved = keys.find((k) => k.toLowerCase().startsWith('aws:'))
  if (reserved !== undefined)
    throw new ValidationException(
      `Tag keys starting with 'aws:' are reserved: '${reserved.slice(0, 128)}'`,
    )
}

/** Checks the tags of a new resource: reserved keys, duplicates and the per-resource limit. */
export function checkNewResourceTags(tags: Tag[], maxPerResource: number): void {
  checkTagKeys(tags.map((t) => t.Key))
  const keys = new Set(tags.map((t) => t.Key))
  if (keys.size !== tags.length)
    throw new ValidationException('Tag keys must be unique within a request')
  if (tags.length > maxPerResource)
    throw new LimitExceededException(`A resource can have at most ${maxPerResource} tags`)
}
