import {
  defaultTypeResolver, getArgumentValues, GraphQLError, isAbstractType, isLeafType, isListType, isNonNullType, isObjectType,
  locatedError, type GraphQLOutputType, type GraphQLResolveInfo, type GraphQLSchema,
} from 'graphql';
import type { Context } from '../context';
import type { FieldPlan, Plan } from './plan';

/**
 * Runs a plan: the resolvers and loaders of the selected fields, with graphql-js's completion rules
 * (leaf serialization, lists, abstract types, null propagation to the nearest nullable field, one
 * error per failing field at its path). Shield verdicts and privacy actions were decided by the plan.
 */
interface Path { prev: Path | undefined; key: string | number; typename: string | undefined }
const addPath = (prev: Path | undefined, key: string | number, typename: string | undefined): Path => ({ prev, key, typename });
function pathToArray(path: Path | undefined): (string | number)[] {
  const out: (string | number)[] = [];
  for (let p = path; p; p = p.prev) out.push(p.key);
  return out.reverse();
}

/**
 * graphql-js's CollectedErrors: an error is not recorded when its position or an ancestor's was
 * already nulled by an earlier error's propagation.
 */
class CollectedErrors {
  private readonly positions = new Set<Path | undefined>();
  readonly errors: GraphQLError[] = [];
  add(error: GraphQLError, path: Path | undefined): void {
    if (this.nulled(path)) return;
    this.positions.add(path);
    this.errors.push(error);
  }
  /** The value at `path` was nulled (or never reached the response) because of an error at it or above it. */
  nulled(path: Path | undefined): boolean {
    for (let p = path; p !== undefined; p = p.prev) if (this.positions.has(p)) return true;
    return this.positions.has(undefined);
  }
}

interface Exe {
  schema: GraphQLSchema;
  plan: Plan;
  ctx: Context;
  variables: Record<string, unknown>;
  errors: CollectedErrors;
  /** Personal data read, by position: audited when the value reached the response. */
  reads: { path: Path; customerId: string; field: string }[];
}

const isPromise = (v: unknown): v is Promise<unknown> =>
  typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';

export interface PlanResult { data: Record<string, unknown> | null; errors: GraphQLError[] }

export async function executePlan(schema: GraphQLSchema, plan: Plan, ctx: Context, variables: Record<string, unknown>): Promise<PlanResult> {
  const exe: Exe = { schema, plan, ctx, variables, errors: new CollectedErrors(), reads: [] };
  let data: Record<string, unknown> | null;
  try {
    const r = executeFields(exe, plan.root, plan.rootType.name, undefined, undefined);
    data = isPromise(r) ? await r : r;
  } catch (e) {
    exe.errors.add(e as GraphQLError, undefined);
    data = null;
  }
  // The audit lists the personal data the response discloses: a value below a position that an
  // error nulled was read but not returned. (The resolver path notes what resolved before the
  // response was built, which for such subtrees depends on timing; without errors both agree.)
  for (const r of exe.reads) if (!exe.errors.nulled(r.path)) ctx.audit.noteRead(r.customerId, r.field);
  return { data, errors: exe.errors.errors };
}

function executeFields(exe: Exe, fields: readonly FieldPlan[], typename: string, source: unknown, path: Path | undefined): Record<string, unknown> | Promise<Record<string, unknown>> {
  const result: Record<string, unknown> = {};
  let pending: Promise<unknown>[] | undefined;
  try {
    for (const f of fields) {
      const fieldPath = addPath(path, f.responseKey, typename);
      const v = executeField(exe, f, source, fieldPath);
      result[f.responseKey] = v;
      if (isPromise(v)) (pending ??= []).push(v.then((resolved) => { result[f.responseKey] = resolved; }));
    }
  } catch (error) {
    // As graphql-js: the siblings already running are awaited (they may reject too), then the error propagates.
    if (pending) return Promise.all(pending).finally(() => { throw error; }) as Promise<never>;
    throw error;
  }
  if (!pending) return result;
  return Promise.all(pending).then(() => result);
}

function executeField(exe: Exe, f: FieldPlan, source: unknown, path: Path): unknown {
  try {
    const value = resolveField(exe, f, source, path);
    const completed = isPromise(value)
      ? value.then((v) => completeValue(exe, f.returnType, f, path, v))
      : completeValue(exe, f.returnType, f, path, value);
    if (isPromise(completed)) {
      return completed.then(undefined, (raw: unknown) => handleFieldError(locatedError(raw, f.fieldNodes, pathToArray(path)), f.returnType, path, exe));
    }
    return completed;
  } catch (raw) {
    return handleFieldError(locatedError(raw, f.fieldNodes, pathToArray(path)), f.returnType, path, exe);
  }
}

function handleFieldError(error: GraphQLError, returnType: GraphQLOutputType, path: Path, exe: Exe): null {
  if (isNonNullType(returnType)) throw error;
  exe.errors.add(error, path);
  return null;
}

function infoOf(exe: Exe, f: FieldPlan, path: Path): GraphQLResolveInfo {
  return {
    fieldName: f.fieldName, fieldNodes: f.fieldNodes, returnType: f.returnType, parentType: f.parentType,
    path: path as GraphQLResolveInfo['path'], schema: exe.schema, fragments: exe.plan.fragments, rootValue: undefined,
    operation: exe.plan.operation, variableValues: exe.variables,
  };
}

const NO_ARGS = Object.freeze({}) as Record<string, unknown>;

/** Shield verdict, privacy action, resolver (the plan decided which), then the privacy rendering. */
function resolveField(exe: Exe, f: FieldPlan, source: unknown, path: Path): unknown {
  if (f.def === null) return f.parentType.name;
  if (f.refusal) throw f.refusal();
  const p = f.privacy;
  if (p && p.action === 'NULL') return null;
  const args = f.hasArgs ? getArgumentValues(f.def, f.fieldNodes[0]!, exe.variables) : NO_ARGS;
  let value: unknown;
  if (f.resolve) value = f.resolve(source, args, exe.ctx, infoOf(exe, f, path));
  else {
    const prop = (source as Record<string, unknown> | null | undefined)?.[f.fieldName];
    value = typeof prop === 'function' ? (prop as (...a: unknown[]) => unknown).call(source, args, exe.ctx, infoOf(exe, f, path)) : prop;
  }
  if (!p) return value;
  const finish = (v: unknown): unknown => {
    if (v === null || v === undefined) return v;
    const customerId = p.customerOf(source);
    if (customerId) exe.reads.push({ path, customerId, field: p.name });
    return p.render ? p.render(v) : v;
  };
  return isPromise(value) ? value.then(finish) : finish(value);
}

function completeValue(exe: Exe, returnType: GraphQLOutputType, f: FieldPlan, path: Path, result: unknown): unknown {
  if (result instanceof Error) throw result;
  if (isNonNullType(returnType)) {
    const completed = completeValue(exe, returnType.ofType, f, path, result);
    if (completed === null) throw new Error(`Cannot return null for non-nullable field ${f.parentType.name}.${f.fieldName}.`);
    return completed;
  }
  if (result === null || result === undefined) return null;
  if (isListType(returnType)) return completeList(exe, returnType.ofType, f, path, result);
  if (isLeafType(returnType)) {
    const serialized = returnType.serialize(result);
    if (serialized === null || serialized === undefined) throw new Error(`Expected \`${returnType.name}.serialize\` to return non-nullable value`);
    return serialized;
  }
  if (isAbstractType(returnType)) {
    const resolveType = returnType.resolveType ?? defaultTypeResolver;
    const runtime = resolveType(result, exe.ctx, infoOf(exe, f, path), returnType);
    const complete = (name: unknown) => {
      const fields = typeof name === 'string' ? f.sub?.get(name) : undefined;
      if (!fields) throw new GraphQLError(`Abstract type "${returnType.name}" must resolve to an Object type at runtime for field "${f.parentType.name}.${f.fieldName}".`);
      return executeFields(exe, fields, name as string, result, path);
    };
    return isPromise(runtime) ? runtime.then(complete) : complete(runtime);
  }
  if (isObjectType(returnType)) {
    const fields = f.sub?.get(returnType.name);
    if (!fields) throw new Error(`no plan for ${returnType.name} below ${f.parentType.name}.${f.fieldName}`);
    return executeFields(exe, fields, returnType.name, result, path);
  }
  throw new Error(`Cannot complete value of unexpected output type: ${String(returnType)}`);
}

function completeList(exe: Exe, itemType: GraphQLOutputType, f: FieldPlan, path: Path, result: unknown): unknown {
  if (typeof result !== 'object' || result === null || typeof (result as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw new GraphQLError(`Expected Iterable, but did not find one for field "${f.parentType.name}.${f.fieldName}".`);
  }
  const out: unknown[] = [];
  let pending = false;
  let index = 0;
  try {
    for (const item of result as Iterable<unknown>) {
      const itemPath = addPath(path, index, undefined);
      try {
        const completed = isPromise(item)
          ? item.then((v) => completeValue(exe, itemType, f, itemPath, v))
          : completeValue(exe, itemType, f, itemPath, item);
        if (isPromise(completed)) {
          pending = true;
          out.push(completed.then(undefined, (raw: unknown) => handleFieldError(locatedError(raw, f.fieldNodes, pathToArray(itemPath)), itemType, itemPath, exe)));
        } else out.push(completed);
      } catch (raw) {
        out.push(handleFieldError(locatedError(raw, f.fieldNodes, pathToArray(itemPath)), itemType, itemPath, exe));
      }
      index++;
    }
  } catch (error) {
    // An item's error propagates now (as in graphql-js); items still running must not reject unobserved.
    for (const v of out) if (isPromise(v)) v.then(undefined, () => undefined);
    throw error;
  }
  return pending ? Promise.all(out) : out;
}
