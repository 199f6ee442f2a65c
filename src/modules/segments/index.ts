/**
 * What the segments domain offers the rest of the gateway. Other code imports this file, never the
 * domain's repositories or other files (an ESLint rule holds it); the registry reads module.ts.
 */
export { segmentsByIds } from './segments.repository';
export { refreshDueSegments, refreshSegmentById } from './segments.service';
export { exitDynamicSegments } from './segments.service';
