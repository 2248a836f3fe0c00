/**
 * @module pipelines/variables
 * `#{Namespace.Variable}` references in action configuration, commands and environment values:
 * `#{variables.Name}` for pipeline variables, `#{codepipeline.PipelineExecutionId}`, and the
 * output variables of earlier actions by their namespace. An unknown reference fails the action.
 */
export class UnresolvedVariable extends Error {}

const REF = /#\{([A-Za-z0-9@\-_]+)\.([A-Za-z0-9@\-_.]+)\}/g

export function resolveVariables(
  text: string,
  scopes: Record<string, Record<string, string>>,
): string {
  return text.replace(REF, (whole, ns: string, name: string) => {
    const v = scopes[ns]?.[name]
    if (v === undefined)
      throw new UnresolvedVariable(`The variable reference ${whole} cannot be resolved`)
    return v
  })
}
