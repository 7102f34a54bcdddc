/** The one wording of "what Backcare is not", shown wherever health content appears (help, sessions, Home, invites). */
export const DISCLAIMER = 'Backcare offers general wellbeing routines. It is not medical advice or a diagnosis.';
