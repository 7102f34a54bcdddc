import {
  GuildMemberRoleManager,
  MessageFlags,
  type ButtonInteraction,
  type ChannelSelectMenuInteraction,
  type ChatInputCommandInteraction,
  type Client,
  type Interaction,
  type ModalSubmitInteraction,
  type StringSelectMenuInteraction,
} from 'discord.js';
import type { Logger } from '../../src/config/logger.js';
import type { Actor, Core, LeadRoles, WorkQueue, WorkspaceLifecycle } from '../../src/core/ports.js';
import type { SubcommandSpec } from './commands.js';
import type { ActionRefs } from './custom-id.js';
import type { FormDrafts, FormValues } from './forms.js';
import type { DiscordLiveSessions as LiveSessions } from './live.js';
import type { ActorFacts } from './parse.js';
import type { DiscordMessage } from './render.js';

/** What the Discord handlers share: the core and its services, the client, live sessions, drafts and refs. */
export interface DiscordContext {
  core: Core;
  log: Logger;
  client: Client;
  live: LiveSessions;
  refs: ActionRefs;
  drafts: FormDrafts;
  specs: readonly SubcommandSpec[];
  leadRoles: LeadRoles;
  lifecycle: WorkspaceLifecycle;
  /** Defer when the core has not answered after this long (Discord allows 3 s for the first response). */
  deferAfterMs: number;
  /** Slots for the work behind the acks, shared with the other adapters (see src/core/work-queue.ts). */
  work: WorkQueue;
  /** Routine ids for autocomplete (from the content library). */
  routineChoices?: (() => readonly { id: string; title: string }[]) | undefined;
}

/** How a reply goes back: whether the interaction was deferred, and who asked. */
export interface Delivery {
  deferred: boolean;
  actor: Actor;
  facts: ActorFacts;
  /** Form values to keep when a submit came back with errors. */
  previous?: FormValues;
}

export const ephemeral = MessageFlags.Ephemeral;
export const expiredText = 'This button has expired or is no longer valid. Run `/backcare help` to start again.';

export type Component = ButtonInteraction | StringSelectMenuInteraction | ChannelSelectMenuInteraction;
export type Repliable = ChatInputCommandInteraction | Component | ModalSubmitInteraction;

export function memberRoles(member: Interaction['member']): string[] {
  if (!member) return [];
  if (member.roles instanceof GuildMemberRoleManager) return [...member.roles.cache.keys()];
  return Array.isArray(member.roles) ? member.roles : [];
}

export const withoutFlags = ({ flags: _flags, ...rest }: DiscordMessage): DiscordMessage => rest;
