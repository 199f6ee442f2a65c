import { hasRole, reachable } from '../../auth/rules';
import type { RuleTree } from '../../auth/permissions';

/** Segments are marketing's: read by ADMIN, MARKETER, ANALYST users; written by ADMIN and MARKETER. */
const readers = hasRole('ADMIN', 'MARKETER', 'ANALYST');
const writers = hasRole('ADMIN', 'MARKETER');

export const segmentRules: RuleTree = {
  Query: { segments: readers, segment: readers, segmentSizeHistory: readers },
  Mutation: {
    createSegment: writers, updateSegment: writers, deleteSegment: writers, refreshSegment: writers,
    addSegmentMembers: writers, removeSegmentMembers: writers,
  },
  // Customer is reachable by AGENT and API keys too; which segments someone is in is for segment readers.
  Customer: { segments: readers },
  Segment: reachable,
  SegmentConnection: reachable,
  SegmentEdge: reachable,
  SegmentMembershipChange: reachable,
  SegmentMembershipChangeConnection: reachable,
  SegmentMembershipChangeEdge: reachable,
  SegmentSizePoint: reachable,
  SegmentPayload: reachable,
  DeleteSegmentPayload: reachable,
  RefreshSegmentPayload: reachable,
  SegmentMembersPayload: reachable,
};
