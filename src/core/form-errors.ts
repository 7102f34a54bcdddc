import { reply, text, type Form, type Reply } from './reply.js';

/** The label a person sees for a form field; errors never show the internal field id. */
export function fieldLabel(form: Pick<Form, 'fields'> | undefined, fieldId: string): string | undefined {
  return form?.fields.find((f) => f.id === fieldId)?.label;
}

/** One line per problem, each starting with the field's label (a problem that belongs to no field stands alone). */
export function describeFormErrors(form: Pick<Form, 'fields'> | undefined, errors: Record<string, string>): string[] {
  return Object.entries(errors).map(([id, message]) => {
    const label = fieldLabel(form, id);
    return label ? `${label}: ${message}` : message;
  });
}

/**
 * A rejected form, offered again with every problem found (never only the first). Slack and Discord show each
 * message on its field; the console lists them by label, so the wording never speaks of highlighting.
 */
export function formErrorsReply(
  form: Form,
  errors: Record<string, string>,
  lead = 'Some answers need another look:',
): Reply {
  return { ...reply(`${lead} ${describeFormErrors(form, errors).join('; ')}`, [text(lead)]), form, formErrors: errors };
}
