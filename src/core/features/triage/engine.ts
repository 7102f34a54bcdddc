import type { Answers, Outcome, PhysioReason, SymptomLevel, TriageRules } from './schema.js';

export interface TriageResult {
  outcome: Outcome;
  /** Every code that applies at the outcome's level, in content order; empty for self_care. */
  reasons: string[];
}

/**
 * The whole decision, as a pure function of validated answers and rules: the highest level that
 * applies wins, so a red flag can never be outweighed by reassuring answers elsewhere.
 */
export function triage(answers: Answers, rules: TriageRules): TriageResult {
  const ticked = new Set(answers.symptoms);
  const symptomsAt = (level: SymptomLevel) =>
    rules.symptoms.filter((s) => s.level === level && ticked.has(s.code)).map((s) => s.code);

  const emergency = symptomsAt('emergency');
  if (emergency.length > 0) return { outcome: 'emergency', reasons: emergency };

  const urgent = symptomsAt('urgent');
  if (urgent.length > 0) return { outcome: 'urgent', reasons: urgent };

  const applies: Record<PhysioReason, boolean> = {
    severe_pain: answers.pain >= rules.thresholds.severePain,
    persistent: answers.weeks >= rules.thresholds.persistentWeeks,
    interferes: answers.interferes,
    worsening: answers.worsening,
  };
  const physio = [
    ...symptomsAt('physio'),
    ...(Object.keys(applies) as PhysioReason[]).filter((reason) => applies[reason]),
  ];
  if (physio.length > 0) return { outcome: 'physio', reasons: physio };

  return { outcome: 'self_care', reasons: [] };
}

/** Plain words for a reason code (symptom label or one of the physio reasons). */
export function reasonLabel(code: string, rules: TriageRules): string {
  const symptom = rules.symptoms.find((s) => s.code === code);
  if (symptom) return symptom.label;
  return (rules.reasons as Record<string, string>)[code] ?? code;
}
