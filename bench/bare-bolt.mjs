/**
 * The yardstick for `npm run bench -- acks`: a Bolt app of the same version on Bolt's own HTTPReceiver whose
 * handlers only acknowledge. Whatever Backcare's acks cost beyond this is Backcare's.
 * Plain JavaScript so that its start-up is not charged for a TypeScript loader. Env: PORT, SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN, SLACK_API_URL.
 */
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';

const signingSecret = process.env.SLACK_SIGNING_SECRET ?? '';
const receiver = new HTTPReceiver({
  signingSecret,
  endpoints: ['/slack/events', '/slack/commands', '/slack/interactivity'],
});
const app = new App({
  receiver,
  logLevel: LogLevel.ERROR,
  clientOptions: { slackApiUrl: process.env.SLACK_API_URL },
  // No token check at start and no per-request installation lookup: the cheapest authorize there is.
  authorize: async () => ({ botToken: process.env.SLACK_BOT_TOKEN ?? '' }),
});
app.command(/.*/, async ({ ack }) => ack());
app.view(/.*/, async ({ ack }) => ack());
app.action(/.*/, async ({ ack }) => ack());
await app.start(Number(process.env.PORT));
process.stdout.write('ready\n');
process.on('SIGTERM', () => void app.stop().then(() => process.exit(0)));
