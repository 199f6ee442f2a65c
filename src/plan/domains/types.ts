/**
 * What one domain contributes to the compiled read path. Kept per domain (src/plan/domains/<domain>.ts)
 * so that a domain manifest can declare it later: the root fields an operation may start from, and
 * the fields of the domain's types that must never be compiled (the whole operation then runs on
 * the resolver path).
 */
export interface DomainCompile {
  domain: string;
  /** `Query` fields the planner may serve. */
  roots?: readonly string[];
  /** `Type.field` the planner refuses (data-dependent behaviour it does not reproduce). */
  notCompilable?: readonly string[];
}
