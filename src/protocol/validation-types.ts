/**
 * @module protocol/validation-types
 * The shape of the generated validation tables (`src/generated/validation-table.ts`), read by the
 * one generic validator in `protocol/validate.ts`.
 */
export type ShapeRule =
  | {
      type: 'string'
      min?: number
      max?: number
      pattern?: string
      enum?: readonly string[]
    }
  | { type: 'integer' | 'long'; min?: number; max?: number }
  | { type: 'boolean' | 'timestamp' }
  | { type: 'list'; member: string; min?: number; max?: number }
  | { type: 'map'; key: string; value: string; min?: number; max?: number }
  | { type: 'structure'; members: Record<string, string>; required?: readonly string[] }

export interface ValidationTable {
  /** Operation name → its input shape (null when the operation takes no input). */
  operations: Record<string, string | null>
  shapes: Record<string, ShapeRule>
}
