/** The bot scopes Backcare asks for, each for one reason (why each: docs/slack.md, "Scopes"; also manifest.yaml). */
export const botScopes = [
  'commands',
  'chat:write',
  'im:write',
  'im:history',
  'channels:history',
  'groups:history',
  'channels:read',
  'groups:read',
  'users:read',
  'dnd:read',
  'users.profile:read',
  'files:write',
] as const;
