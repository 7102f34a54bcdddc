import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Anything that could carry a credential is censored wherever it sits in a log object:
 * tokens, secrets, Authorization headers and connection strings with passwords.
 */
const redactedPaths = [
  'token',
  'botToken',
  'appToken',
  'userToken',
  'accessToken',
  'refreshToken',
  'signingSecret',
  'clientSecret',
  'stateSecret',
  'password',
  'authorization',
  'Authorization',
  'databaseUrl',
  'DATABASE_URL',
  'SLACK_BOT_TOKEN',
  'SLACK_APP_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_CLIENT_SECRET',
  'SLACK_STATE_SECRET',
  'DISCORD_TOKEN',
  'headers.authorization',
  'headers.cookie',
  'headers["x-slack-signature"]',
  '*.token',
  '*.botToken',
  '*.appToken',
  '*.userToken',
  '*.accessToken',
  '*.refreshToken',
  '*.signingSecret',
  '*.clientSecret',
  '*.stateSecret',
  '*.password',
  '*.authorization',
  '*.Authorization',
  '*.databaseUrl',
  '*.DATABASE_URL',
  '*.SLACK_BOT_TOKEN',
  '*.SLACK_APP_TOKEN',
  '*.SLACK_SIGNING_SECRET',
  '*.SLACK_CLIENT_SECRET',
  '*.SLACK_STATE_SECRET',
  '*.DISCORD_TOKEN',
  '*.headers.authorization',
  '*.headers.Authorization',
  '*.headers.cookie',
  '*.headers["x-slack-signature"]',
  '*.bot.token',
  '*.bot.userId',
  // A Discord interaction's token, stored with a shared live session (its state: message.webhook.interactionToken).
  'interactionToken',
  '*.interactionToken',
  '*.*.interactionToken',
  '*.*.*.interactionToken',
];

export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { app: 'backcare' },
      redact: { paths: redactedPaths, censor: '[redacted]' },
      serializers: { err: serializeError, error: serializeError },
      // Path redaction cannot see a token inside free text (an error message, a URL): mask those too.
      formatters: { log: (object) => maskSecretsDeep(object) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((arg) => (typeof arg === 'string' ? maskSecrets(arg) : arg)) as Parameters<typeof method>,
          );
        },
      },
    },
    // Logs go to stderr so that stdout stays the console adapter's chat surface.
    options.destination ?? pino.destination(2),
  );
}

const tokenPattern =
  /\b(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|[MN][A-Za-z0-9]{23,}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,})\b/g;
const urlPasswordPattern = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/\s]+:)[^@\s]+@/gi;
/** An interaction (or webhook) token in a Discord URL: /webhooks/<application id>/<token>. */
const webhookTokenPattern = /(\/webhooks\/\d+\/)[^/\s?#"']+/g;

/** Masks credentials that appear inside free text (error messages, URLs), which path-based redaction cannot see. */
export function maskSecrets(text: string): string {
  return text
    .replace(tokenPattern, '[redacted]')
    .replace(urlPasswordPattern, '$1[redacted]@')
    .replace(webhookTokenPattern, '$1[redacted]');
}

function serializeError(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const code = (value as { code?: unknown }).code;
  return {
    type: value.name,
    message: maskSecrets(value.message),
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    stack: value.stack ? maskSecrets(value.stack) : undefined,
  };
}

/** Keys censored at any depth the deep mask reaches, beyond the paths pino redacts. */
const censoredKeys = new Set(['interactionToken']);

function maskSecretsDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskSecrets(value);
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return serializeError(value);
  if (Array.isArray(value)) return value.map((item) => maskSecretsDeep(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value))
    out[key] = censoredKeys.has(key) ? '[redacted]' : maskSecretsDeep(item, depth + 1);
  return out;
}
