/**
 * Preloaded (`--import`) into a child bot by tests: the nudge scheduler's once-a-minute tick fires every second,
 * so a test sees the fan-out start at once instead of waiting up to a minute for the clock. Nothing else changes.
 */
import cron from 'node-cron';

const schedule = cron.schedule;
cron.schedule = (expression, task, options) =>
  schedule(expression === '* * * * *' ? '* * * * * *' : expression, task, options);
