/**
 * What the service domain offers the rest of the gateway. Other code imports this file, never the
 * domain's repositories or other files (an ESLint rule holds it); the registry reads module.ts.
 */
export type { InteractionRow } from './service.mappers';
export { encryptInteractionTexts, mapInteraction } from './service.repository';
export type { IxDbRow } from './service.repository';
