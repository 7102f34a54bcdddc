import { afterEach, beforeEach, expect, it } from 'vitest';
import { draftContent, modalFor, pageMessage, steps, type Draft } from '../../../adapters/discord/forms.js';
import { ask } from '../../support/core.js';
import { describeEachDatabase } from '../../support/db.js';
import { buttonPress, messageWith, modalSubmit, selectChoice, slashCommand } from '../../support/discord/payloads.js';
import { startHarness, type Harness } from './harness.js';

type Component = {
  type: number;
  custom_id: string;
  label?: string;
  placeholder?: string;
  min_values?: number;
  options?: { value: string }[];
};
type Callback = { type: number; data?: Record<string, unknown> };

const rowsOf = (c: Callback | undefined) => (c?.data?.components ?? []) as { components: Component[] }[];
const componentsOf = (c: Callback | undefined) => rowsOf(c).flatMap((r) => r.components);
const selectWith = (c: Callback | undefined, code: string) =>
  componentsOf(c).find((x) => x.type === 3 && x.options?.some((o) => o.value === code))!;

describeEachDatabase('discord: /backcare triage wizard', (database) => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness(database().db);
  });
  afterEach(async () => {
    await h.close();
  });

  /** Opens the screen page, picks `picks` (code → the codes to choose in that code's select), presses the submit button. */
  async function submitScreen(picks: Record<string, string[]>): Promise<Callback> {
    const open = slashCommand('triage');
    await h.emit(open);
    const page = h.callbacks(open.id)[0]!;
    const message = messageWith(rowsOf(page), { ephemeral: true, interactionId: open.id });
    for (const [code, chosen] of Object.entries(picks)) {
      const pick = selectChoice(selectWith(page, code).custom_id, chosen, { kind: 'guild' }, message);
      await h.emit(pick);
      expect(h.callbacks(pick.id)).toEqual([{ type: 6 }]);
    }
    const submit = componentsOf(page).find((x) => x.type === 2 && x.label !== 'Cancel')!;
    const press = buttonPress(submit.custom_id, { kind: 'guild' }, message);
    await h.emit(press);
    return h.callbacks(press.id)[0]!;
  }

  it('an emergency sign alone gets the emergency outcome at once, the other selects untouched', async () => {
    const answer = await submitScreen({ tearing_pain: ['tearing_pain'] });
    const shown = JSON.stringify(answer);
    expect(shown).toMatch(/Call your local emergency number now/);
    expect(shown).toContain('Sudden, severe, tearing pain between the shoulder blades');
    expect(shown).not.toMatch(/need another look|❌/);
  });

  it('an emergency sign wins over "None of these" beside a symptom in another select', async () => {
    const answer = await submitScreen({ chest_pain: ['chest_pain'], radiating: ['none', 'radiating'] });
    expect(JSON.stringify(answer)).toMatch(/Call your local emergency number now/);
  });

  it('an urgent sign gets the urgent outcome at once, the physio select untouched', async () => {
    const answer = await submitScreen({ chest_pain: ['none'], fever: ['fever'] });
    const shown = JSON.stringify(answer);
    expect(shown).toMatch(/Contact a doctor today/);
    expect(shown).not.toMatch(/need another look|How strong is the pain/);
  });

  it('the urgent and physio selects can be cleared (min 0); the emergency one needs a choice', async () => {
    const open = slashCommand('triage');
    await h.emit(open);
    const page = h.callbacks(open.id)[0]!;
    expect([
      selectWith(page, 'chest_pain').min_values,
      selectWith(page, 'fever').min_values,
      selectWith(page, 'radiating').min_values,
    ]).toEqual([1, 0, 0]);
  });

  it.each(['0.5', '0,5'])('takes %s weeks in the pain modal and ends in self-care', async (weeks) => {
    const details = await submitScreen({ chest_pain: ['none'], fever: ['none'], radiating: ['none'] });
    // The yes/no questions come as a page of selects, then pain and weeks in a modal.
    const message = messageWith(rowsOf(details), { ephemeral: true });
    for (const id of ['interferes', 'worsening']) {
      const select = componentsOf(details).find(
        (x) =>
          x.type === 3 && x.placeholder?.startsWith(id === 'interferes' ? 'Does it stop you' : 'Is it getting worse'),
      )!;
      const pick = selectChoice(select.custom_id, ['no'], { kind: 'guild' }, message);
      await h.emit(pick);
    }
    const next = buttonPress(
      componentsOf(details).find((x) => x.type === 2 && x.label !== 'Cancel')!.custom_id,
      { kind: 'guild' },
      message,
    );
    await h.emit(next);
    const modal = h.callbacks(next.id)[0]!;
    expect(modal.type).toBe(9);
    const inputs = (modal.data!.components as { components: { custom_id: string }[] }[]).map(
      (r) => r.components[0]!.custom_id,
    );
    expect(inputs).toEqual(['pain', 'weeks']);
    const submit = modalSubmit(modal.data!.custom_id as string, { pain: '3', weeks }, { kind: 'guild' }, message);
    await h.emit(submit);
    const shown = JSON.stringify(h.callbacks(submit.id)[0]);
    expect(shown).not.toMatch(/need another look|❌/);
    expect(shown).toMatch(/Self-care is a reasonable place to start/);
  });

  it('both triage forms show every title, label, option and hint whole (nothing cut to Discord limits)', async () => {
    const start = await ask(h.core, '/backcare triage');
    const next = await ask(h.core, {
      kind: 'submit',
      formId: 'triage.screen',
      values: { emergency: ['none'], urgent: ['none'], physio: ['none'] },
    });
    for (const form of [start.form!, next.form!]) {
      const draft: Draft = { ...draftContent(form, { userId: 'u' }), id: 'preview', expiresAt: new Date() };
      for (const [position, step] of steps(draft).entries()) {
        draft.position = position;
        if (step.kind === 'page') {
          const page = pageMessage(draft);
          expect(page.embeds?.[0]?.title).toBe(form.title);
          const selects = (page.components ?? [])
            .flatMap((r) => r.components)
            .filter((c) => c.type === 3) as unknown as Component[];
          expect(selects.map((c) => c.placeholder)).toEqual(step.fields.map((f) => f.label));
          for (const [i, field] of step.fields.entries()) {
            if (field.kind === 'select' || field.kind === 'multiselect')
              expect(selects[i]!.options?.map((o) => (o as { label?: string }).label)).toEqual(
                field.options.map((o) => o.label),
              );
          }
        } else if (step.kind === 'modal') {
          const modal = modalFor(draft, step);
          expect(modal.title).toBe(form.title);
          const inputs = modal.components.map(
            (r) => (r as { components: { label: string; placeholder?: string }[] }).components[0]!,
          );
          expect(inputs.map((i) => i.label)).toEqual(step.fields.map((f) => f.label));
          expect(inputs.map((i) => i.placeholder)).toEqual(step.fields.map((f) => f.hint));
        }
      }
    }
    // The pain scale is visible in the modal: the range in the label, the meaning of its ends in the placeholder.
    const pain = next.form!.fields.find((f) => f.id === 'pain')!;
    expect(pain.label).toMatch(/0 to 10/);
    expect(pain.hint).toBe('0 = none, 10 = worst imaginable');
  });
});
