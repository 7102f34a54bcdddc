import { bullets, caution, context, reply, text, type Action, type Block, type Reply } from '../../reply.js';
import { reasonLabel, type TriageResult } from './engine.js';
import type { TriageRules } from './schema.js';

export interface OutcomeReplyOptions {
  /** Routine suggestions for self_care and physio, one line each. */
  routines: string[];
  /** The consent buttons (none for emergency: nothing may compete with the call to action). */
  consent: Action[];
}

/**
 * The outcome in plain words. Emergency is deliberately bare: the call-to-action first, then why,
 * then the disclaimer; no routines, no buttons.
 */
export function outcomeReply(result: TriageResult, rules: TriageRules, options: OutcomeReplyOptions): Reply {
  const why = result.reasons.map((code) => reasonLabel(code, rules));
  const disclaimer = context(rules.disclaimer);
  const { outcomes } = rules;
  let blocks: Block[];
  switch (result.outcome) {
    case 'emergency':
      return reply(
        'Call your local emergency number now (999 UK, 112 EU, 911 US/Canada). Do not drive yourself.',
        [caution(outcomes.emergency.headline), text(outcomes.emergency.why), bullets(why), disclaimer],
        { visibility: 'ephemeral' },
      );
    case 'urgent':
      blocks = [
        text(outcomes.urgent.headline),
        text(outcomes.urgent.why),
        bullets(why),
        text(outcomes.urgent.mentionIntro),
        bullets(outcomes.urgent.mention),
        caution(outcomes.urgent.escalate),
      ];
      break;
    case 'physio':
      blocks = [
        text(outcomes.physio.headline),
        text(outcomes.physio.why),
        bullets(why),
        text(outcomes.physio.meanwhile),
        bullets(options.routines),
        caution(outcomes.physio.caution),
        text(outcomes.physio.escalateIntro),
        bullets(outcomes.physio.escalate),
      ];
      break;
    case 'self_care':
      blocks = [
        text(outcomes.self_care.headline),
        text(outcomes.self_care.meanwhile),
        bullets(options.routines),
        text(outcomes.self_care.comeBackIntro),
        bullets(outcomes.self_care.comeBack),
      ];
      break;
  }
  const name = outcomes[result.outcome].name;
  blocks.push(disclaimer, context(rules.consent.question.replace(/\{name\}/g, name)));
  return reply(`Triage outcome: ${name}. ${stripMarkup(outcomes[result.outcome].headline)}`, blocks, {
    visibility: 'ephemeral',
    actions: options.consent,
  });
}

const stripMarkup = (value: string) => value.replace(/[*_`]/g, '');
