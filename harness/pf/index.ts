/** The fake CPM Participating Function: API types, the PF itself, and its pure builders. */
export type * from './types.ts';
export { ParticipatingFunction, defaultGroup } from './participating-function.ts';
export { buildGroupInvite, buildOfferSdp, buildResourceList, buildMultipartBody, type GroupInviteParams, type BuiltInvite } from './invite-builder.ts';
export { conferenceDocument, decideSubscribe, grantedExpires, isGroupUri, subscriptionStateValue, type SubscribeDecision } from './conference.ts';
export { EventLog } from './event-log.ts';
