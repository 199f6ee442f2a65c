import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';

/**
 * Whether the current field's selection asks for `name` directly (through fragments too). Used to
 * fold optional work such as `totalCount` into the page statement instead of a second one.
 * Errs towards true when a fragment cannot be resolved; @skip/@include are treated as "selected".
 */
export function selectsField(info: GraphQLResolveInfo, name: string): boolean {
  const seen = new Set<string>();
  const visit = (set: SelectionSetNode | undefined): boolean => {
    if (!set) return false;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD && sel.name.value === name) return true;
      if (sel.kind === Kind.INLINE_FRAGMENT && visit(sel.selectionSet)) return true;
      if (sel.kind === Kind.FRAGMENT_SPREAD) {
        if (seen.has(sel.name.value)) continue;
        seen.add(sel.name.value);
        const frag = info.fragments[sel.name.value];
        if (!frag || visit(frag.selectionSet)) return true;
      }
    }
    return false;
  };
  return info.fieldNodes.some((n) => visit(n.selectionSet));
}

/** What a connection field's selection needs: the total, and rows (edges or pageInfo) at all. */
export function connectionSelection(info: GraphQLResolveInfo): { withTotalCount: boolean; withRows: boolean } {
  return { withTotalCount: selectsField(info, 'totalCount'), withRows: selectsField(info, 'edges') || selectsField(info, 'pageInfo') };
}
