import type {
  CustomerResolvers, MutationResolvers, QueryResolvers, Resolvers, SegmentKind, SegmentMembershipAction, SegmentResolvers,
} from '../../__generated__/resolvers-types';
import { toGlobalId } from '../../lib/global-id';
import { rootConnection } from '../../lib/pagination';
import { connectionSelection } from '../../lib/selection';
import { listCustomers } from '../profile';
import {
  addSegmentMembers, archiveSegment, createSegment, getSegment, listSegments, membershipChanges, refreshSegment, removeSegmentMembers,
  sizeHistory, updateSegment,
} from './segments.service';

const Query: QueryResolvers = {
  segments: (_p, args, ctx, info) => rootConnection(info, () => listSegments(ctx.db, args)),
  segment: (_p, { id }, ctx) => getSegment(ctx.db, id),
  segmentSizeHistory: (_p, { id, from, to }, ctx) => sizeHistory(ctx.db, id, from, to),
};

const Mutation: MutationResolvers = {
  createSegment: (_p, { input }, ctx) => createSegment(ctx.db, ctx.config, ctx.viewer.id, input),
  updateSegment: (_p, { input }, ctx) => updateSegment(ctx.db, ctx.config, input),
  deleteSegment: (_p, { id }, ctx) => archiveSegment(ctx.db, id),
  refreshSegment: (_p, { id }, ctx) => refreshSegment(ctx.db, ctx.config, id),
  addSegmentMembers: (_p, { segmentId, customerIds }, ctx) => addSegmentMembers(ctx.db, segmentId, customerIds),
  removeSegmentMembers: (_p, { segmentId, customerIds }, ctx) => removeSegmentMembers(ctx.db, segmentId, customerIds),
};

const Segment: SegmentResolvers = {
  id: (s) => toGlobalId('Segment', s.id),
  kind: (s) => s.kind as SegmentKind,
  filter: (s) => s.filter ?? null,
  size: (s, _a, ctx) => ctx.loaders.segmentSizeById.load(s.id),
  // Members are customers matching `segment: { in: [id] }`: the customer list's ordering, keyset cursors and row scope.
  members: (s, { orderBy, first, after }, ctx, info) => listCustomers(ctx.db, ctx.config, {
    filter: { segment: { in: [toGlobalId('Segment', s.id)] } }, orderBy, first, after,
    ...connectionSelection(info), rowScope: ctx.rowScope, connection: { field: 'Segment.members', parent: s.id },
  }),
  membershipChanges: (s, { first, after }, ctx) => membershipChanges(ctx.db, s.id, first, after),
};

const Customer: CustomerResolvers = {
  segments: (c, _a, ctx) => ctx.loaders.segmentsByCustomerId.load(c.id),
};

export const segmentResolvers: Resolvers = {
  Query,
  Mutation,
  Segment,
  Customer,
  SegmentMembershipChange: {
    action: (c) => c.action as SegmentMembershipAction,
    customerId: (c) => toGlobalId('Customer', c.customerId),
  },
};
