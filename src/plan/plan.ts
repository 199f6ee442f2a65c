import {
  getNamedType, isAbstractType, isNonNullType, isObjectType, Kind, type DocumentNode, type FieldNode, type FragmentDefinitionNode,
  type GraphQLField, type GraphQLFieldResolver, type GraphQLObjectType, type GraphQLOutputType, type GraphQLSchema,
  type OperationDefinitionNode, type SelectionSetNode, typeFromAST,
} from 'graphql';
import type { RuleTree } from '../auth/permissions';
import type { FieldPolicy, PiiKind } from '../auth/privacy';
import type { Viewer } from '../auth/viewer';
import { forbidden } from '../errors';
import { actionFor, renderer } from './privacy';
import { verdictFor } from './shield';

/**
 * A plan: an operation (document + operation name) for one viewer policy, decided once. Every
 * selected field is resolved to its definition, its resolver, the shield verdict for this viewer and
 * its privacy action; fragments, inline fragments and aliases are flattened into one ordered field
 * list per (selection, runtime type). Executing a plan (src/plan/execute.ts) only binds variables
 * and runs resolvers and loaders: no per-field rule evaluation, no middleware, no graphql-js walk.
 */
export interface FieldPlan {
  responseKey: string;
  fieldName: string;
  parentType: GraphQLObjectType;
  returnType: GraphQLOutputType;
  fieldNodes: readonly FieldNode[];
  /** null for `__typename`. */
  def: GraphQLField<unknown, unknown> | null;
  hasArgs: boolean;
  resolve: GraphQLFieldResolver<unknown, unknown> | undefined;
  /** Shield said no for this viewer: the error, at this field's path. */
  refusal?: () => Error;
  privacy?: {
    name: string;
    action: 'ALLOW' | 'MASK' | 'HASH' | 'NULL' | 'DENY';
    render: ((v: unknown) => unknown) | null;
    /** The customer a value belongs to, for the PII read audit. */
    customerOf: (parent: unknown) => string | null;
  };
  /** Fields of the selection below, per possible runtime type (object and abstract return types). */
  sub?: Map<string, FieldPlan[]>;
}

export interface Plan {
  operation: OperationDefinitionNode;
  fragments: Record<string, FragmentDefinitionNode>;
  root: FieldPlan[];
  rootType: GraphQLObjectType;
}

export type PlanResult = { plan: Plan } | { fallback: string };

export interface PlannerInput {
  schema: GraphQLSchema;
  tree: RuleTree;
  policy: Record<string, FieldPolicy>;
  pii: Map<string, { kind: PiiKind; nonNull: boolean }>;
  hashKey: string;
  roots: ReadonlySet<string>;
  notCompilable: ReadonlySet<string>;
}

class NotCompilable extends Error {}

export async function buildPlan(input: PlannerInput, document: DocumentNode, operation: OperationDefinitionNode, viewer: Viewer): Promise<PlanResult> {
  if (operation.operation !== 'query') return { fallback: operation.operation };
  const rootType = input.schema.getQueryType();
  if (!rootType) return { fallback: 'no query type' };
  const fragments: Record<string, FragmentDefinitionNode> = Object.create(null);
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
  const ctx: Build = { input, fragments, viewer };
  try {
    if (hasDirectives(operation, fragments)) throw new NotCompilable('directives');
    const fields = collectFields(ctx, rootType, [operation.selectionSet]);
    for (const [, nodes] of fields) {
      const name = nodes[0]!.name.value;
      if (name !== '__typename' && !input.roots.has(name)) throw new NotCompilable(`root field ${name}`);
    }
    const root = await planFields(ctx, rootType, fields);
    return { plan: { operation, fragments, root, rootType } };
  } catch (e) {
    if (e instanceof NotCompilable) return { fallback: e.message };
    throw e;
  }
}

interface Build { input: PlannerInput; fragments: Record<string, FragmentDefinitionNode>; viewer: Viewer }

async function planFields(ctx: Build, type: GraphQLObjectType, fields: Map<string, FieldNode[]>): Promise<FieldPlan[]> {
  const out: FieldPlan[] = [];
  for (const [responseKey, nodes] of fields) out.push(await planField(ctx, type, responseKey, nodes));
  return out;
}

async function planField(ctx: Build, parentType: GraphQLObjectType, responseKey: string, nodes: FieldNode[]): Promise<FieldPlan> {
  const fieldName = nodes[0]!.name.value;
  if (fieldName === '__typename') {
    return { responseKey, fieldName, parentType, returnType: ctx.input.schema.getType('String') as GraphQLOutputType, fieldNodes: nodes, def: null, hasArgs: false, resolve: undefined };
  }
  if (fieldName.startsWith('__')) throw new NotCompilable(`introspection field ${fieldName}`);
  const def = parentType.getFields()[fieldName];
  if (!def) throw new NotCompilable(`unknown field ${parentType.name}.${fieldName}`);
  const name = `${parentType.name}.${fieldName}`;
  if (ctx.input.notCompilable.has(name)) throw new NotCompilable(`${name} is not compilable`);
  const plan: FieldPlan = {
    responseKey, fieldName, parentType, returnType: def.type, fieldNodes: nodes, def,
    hasArgs: def.args.length > 0, resolve: def.resolve,
  };
  const verdict = await verdictFor(ctx.input.tree, parentType.name, fieldName, ctx.viewer);
  if (verdict.kind === 'dynamic') throw new NotCompilable(`${name}: its rule reads data or arguments`);
  if (verdict.kind === 'refuse') {
    // A refused non-null field nulls its parent object, and which of the parent's personal data the
    // resolver path audits then depends on timing (siblings that resolved before the refusal): such
    // operations stay on the resolver path. Refused nullable fields resolve nothing below them.
    if (isNonNullType(def.type)) throw new NotCompilable(`${name} is refused and non-null`);
    plan.refusal = verdict.error;
    return plan;
  }
  const pii = ctx.input.pii.get(name);
  if (pii) {
    const rules = ctx.input.policy[name];
    if (!rules) throw new NotCompilable(`${name} has no privacy policy`);
    const action = actionFor(ctx.viewer, name, rules);
    const role = ctx.viewer.role;
    if (action === 'DENY') {
      if (isNonNullType(def.type)) throw new NotCompilable(`${name} is denied and non-null`);
      plan.refusal = () => forbidden(`${role} may not read ${name}`);
    }
    const render = action === 'ALLOW' || action === 'MASK' || action === 'HASH' ? renderer(action, pii.kind, ctx.input.hashKey) : null;
    const customerOf = parentType.name === 'Customer'
      ? (p: unknown) => { const id = (p as { id?: unknown } | null)?.id; return typeof id === 'string' ? id : null; }
      : (p: unknown) => { const id = (p as { customerId?: unknown } | null)?.customerId; return typeof id === 'string' ? id : null; };
    plan.privacy = { name, action, render, customerOf };
    if (action === 'DENY' || action === 'NULL') return plan;
  }
  const named = getNamedType(def.type);
  if (isObjectType(named) || isAbstractType(named)) {
    const sets = nodes.flatMap((n) => (n.selectionSet ? [n.selectionSet] : []));
    const possible = isAbstractType(named) ? ctx.input.schema.getPossibleTypes(named) : [named];
    plan.sub = new Map();
    for (const t of possible) plan.sub.set(t.name, await planFields(ctx, t, collectFields(ctx, t, sets)));
  }
  return plan;
}

/** graphql-js's CollectFields (without @skip/@include: documents using them are not compiled). */
function collectFields(ctx: Build, runtimeType: GraphQLObjectType, sets: readonly SelectionSetNode[]): Map<string, FieldNode[]> {
  const fields = new Map<string, FieldNode[]>();
  const visited = new Set<string>();
  const visit = (set: SelectionSetNode) => {
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        const key = sel.alias?.value ?? sel.name.value;
        const list = fields.get(key);
        if (list) list.push(sel);
        else fields.set(key, [sel]);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        if (sel.typeCondition && !conditionMatches(ctx, sel.typeCondition.name.value, runtimeType)) continue;
        visit(sel.selectionSet);
      } else {
        const name = sel.name.value;
        if (visited.has(name)) continue;
        visited.add(name);
        const frag = ctx.fragments[name];
        if (!frag || !conditionMatches(ctx, frag.typeCondition.name.value, runtimeType)) continue;
        visit(frag.selectionSet);
      }
    }
  };
  for (const s of sets) visit(s);
  return fields;
}

function conditionMatches(ctx: Build, typeName: string, runtimeType: GraphQLObjectType): boolean {
  const conditional = typeFromAST(ctx.input.schema, { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: typeName } });
  if (!conditional) return false;
  if (conditional === runtimeType) return true;
  if (isAbstractType(conditional)) return ctx.input.schema.isSubType(conditional, runtimeType);
  return false;
}

function hasDirectives(operation: OperationDefinitionNode, fragments: Record<string, FragmentDefinitionNode>): boolean {
  let found = false;
  const visit = (set: SelectionSetNode | undefined) => {
    if (!set || found) return;
    for (const sel of set.selections) {
      if (sel.directives?.length) { found = true; return; }
      if (sel.kind !== Kind.FRAGMENT_SPREAD) visit(sel.selectionSet);
    }
  };
  if (operation.directives?.length) return true;
  visit(operation.selectionSet);
  for (const f of Object.values(fragments)) { if (f.directives?.length) return true; visit(f.selectionSet); }
  return found;
}
