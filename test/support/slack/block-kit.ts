/**
 * Checks Block Kit JSON against the Slack limits Backcare relies on (from Slack's Block Kit reference):
 * returns human-readable problems, empty when the payload is within limits.
 */

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function textOf(v: unknown): string | undefined {
  return isObject(v) && typeof v.text === 'string' ? v.text : undefined;
}

function checkText(where: string, v: unknown, max: number, problems: string[]): void {
  const text = textOf(v);
  if (text === undefined) return void problems.push(`${where}: missing text`);
  if (text.length === 0) problems.push(`${where}: empty text`);
  if (text.length > max) problems.push(`${where}: ${text.length} > ${max} characters`);
}

function checkElement(where: string, el: unknown, problems: string[], actionIds: string[]): void {
  if (!isObject(el)) return void problems.push(`${where}: not an object`);
  if (typeof el.action_id === 'string') {
    if (el.action_id.length > 255) problems.push(`${where}: action_id too long`);
    actionIds.push(el.action_id);
  }
  if (el.type === 'button') {
    checkText(`${where} button`, el.text, 75, problems);
    if (typeof el.value === 'string' && el.value.length > 2000)
      problems.push(`${where}: button value ${el.value.length} > 2000`);
  }
  const options = [
    ...(Array.isArray(el.options) ? el.options : []),
    ...(Array.isArray(el.initial_options) ? el.initial_options : []),
  ];
  if (Array.isArray(el.options) && el.options.length > 100)
    problems.push(`${where}: ${el.options.length} options > 100`);
  if (el.type === 'checkboxes' && Array.isArray(el.options) && el.options.length > 10)
    problems.push(`${where}: ${el.options.length} checkboxes > 10`);
  for (const [i, o] of options.entries()) {
    if (!isObject(o)) continue;
    checkText(`${where} option ${i}`, o.text, 75, problems);
    if (typeof o.value === 'string' && o.value.length > 150) problems.push(`${where} option ${i}: value > 150`);
  }
  if (el.placeholder !== undefined) checkText(`${where} placeholder`, el.placeholder, 150, problems);
}

function blockKitProblems(blocks: unknown[], options: { maxBlocks: number; surface: string }): string[] {
  const problems: string[] = [];
  if (blocks.length > options.maxBlocks)
    problems.push(`${options.surface}: ${blocks.length} blocks > ${options.maxBlocks}`);
  const actionIds: string[] = [];
  for (const [i, block] of blocks.entries()) {
    const where = `${options.surface} block ${i}`;
    if (!isObject(block)) {
      problems.push(`${where}: not an object`);
      continue;
    }
    switch (block.type) {
      case 'section':
        if (block.text !== undefined) checkText(where, block.text, 3000, problems);
        if (block.fields !== undefined) {
          const fields = block.fields as unknown[];
          if (fields.length > 10) problems.push(`${where}: ${fields.length} fields > 10`);
          fields.forEach((f, j) => checkText(`${where} field ${j}`, f, 2000, problems));
        }
        if (block.text === undefined && block.fields === undefined)
          problems.push(`${where}: section without text or fields`);
        break;
      case 'header':
        checkText(where, block.text, 150, problems);
        break;
      case 'context': {
        const elements = block.elements as unknown[];
        if (elements.length === 0 || elements.length > 10)
          problems.push(`${where}: ${elements.length} context elements`);
        elements.forEach((e, j) => checkText(`${where} element ${j}`, e, 3000, problems));
        break;
      }
      case 'actions': {
        const elements = block.elements as unknown[];
        if (elements.length === 0 || elements.length > 25)
          problems.push(`${where}: ${elements.length} action elements`);
        elements.forEach((e, j) => checkElement(`${where} element ${j}`, e, problems, actionIds));
        break;
      }
      case 'input':
        checkText(`${where} label`, block.label, 2000, problems);
        if (block.hint !== undefined) checkText(`${where} hint`, block.hint, 2000, problems);
        if (typeof block.block_id !== 'string' || block.block_id.length > 255) problems.push(`${where}: block_id`);
        checkElement(`${where} element`, block.element, problems, actionIds);
        break;
      case 'image':
        if (typeof block.image_url !== 'string' || block.image_url.length > 3000) problems.push(`${where}: image_url`);
        if (typeof block.alt_text !== 'string' || block.alt_text.length > 2000) problems.push(`${where}: alt_text`);
        break;
      case 'divider':
        break;
      default:
        problems.push(`${where}: unexpected block type ${String(block.type)}`);
    }
  }
  const duplicate = actionIds.find((id, i) => actionIds.indexOf(id) !== i);
  if (duplicate) problems.push(`${options.surface}: action_id ${duplicate} used twice`);
  return problems;
}

export function messageProblems(message: { text: string; blocks: unknown[] }, surface: string): string[] {
  const problems = blockKitProblems(message.blocks, { maxBlocks: 50, surface });
  if (message.text.length === 0 || message.text.length > 2000)
    problems.push(`${surface}: fallback text length ${message.text.length}`);
  return problems;
}

export function modalProblems(view: Json, surface: string): string[] {
  const problems = blockKitProblems(view.blocks as unknown[], { maxBlocks: 100, surface });
  for (const key of ['title', 'submit', 'close'] as const)
    if (view[key] !== undefined) checkText(`${surface} ${key}`, view[key], 24, problems);
  if (typeof view.private_metadata === 'string' && view.private_metadata.length > 3000)
    problems.push(`${surface}: private_metadata too long`);
  return problems;
}
