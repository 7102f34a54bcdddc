import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../../project-root.js';
import type { Document, LineCounter, Node } from 'yaml';
import { shippedContentCache, sourceHash, yaml, type ContentCache } from '../../content/yaml.js';
import { triageRulesSchema, type TriageRules } from './schema.js';

export const defaultTriageFile = path.join(projectRoot, 'content/triage.yaml');

/** The triage content cannot be used: which file, where inside it (with its line when known), and what is wrong. */
class TriageContentError extends Error {
  override name = 'TriageContentError';
}

function lineOf(doc: Document, counter: LineCounter, segments: readonly PropertyKey[]): number | undefined {
  const { isMap, isSeq } = yaml();
  let node = doc.contents as Node | null | undefined;
  for (const segment of segments) {
    const next = isMap(node)
      ? node.get(String(segment), true)
      : isSeq(node) && typeof segment === 'number'
        ? node.get(segment, true)
        : undefined;
    if (!next) break;
    node = next as Node;
  }
  return node?.range ? counter.linePos(node.range[0]).line : undefined;
}

/** The rules as written, validated: from the build's cache when the text is unchanged (see content/yaml.ts). */
function validatedRules(source: string, file: string, cache: ContentCache) {
  const cached = cache.get(sourceHash(source));
  if (cached !== undefined) {
    const parsed = triageRulesSchema.safeParse(cached);
    if (parsed.success) return parsed.data;
  }
  const { LineCounter, parseDocument } = yaml();
  const counter = new LineCounter();
  const doc = parseDocument(source, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError) {
    throw new TriageContentError(
      `${file}:${counter.linePos(yamlError.pos[0]).line}: not valid YAML: ${yamlError.message.split('\n')[0]}`,
    );
  }
  const parsed = triageRulesSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.map(String).join('.');
    const line = lineOf(doc, counter, issue.path);
    throw new TriageContentError(`${file}${line ? `:${line}` : ''}: ${where ? `${where}: ` : ''}${issue.message}`);
  }
  return parsed.data;
}

/** Parses and validates the rules text; `file` is only used in error messages. */
export function parseTriageRules(
  source: string,
  file = 'content/triage.yaml',
  cache: ContentCache = shippedContentCache(),
): TriageRules {
  const rules = validatedRules(source, file, cache);
  // Labels name the thresholds, so they cannot drift from the numbers the engine applies.
  const fill = (text: string) =>
    text
      .replace(/\{severePain\}/g, String(rules.thresholds.severePain))
      .replace(/\{persistentWeeks\}/g, String(rules.thresholds.persistentWeeks));
  return {
    ...rules,
    reasons: {
      severe_pain: fill(rules.reasons.severe_pain),
      persistent: fill(rules.reasons.persistent),
      interferes: fill(rules.reasons.interferes),
      worsening: fill(rules.reasons.worsening),
    },
  };
}

function loadTriageRules(file: string = defaultTriageFile): TriageRules {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    throw new TriageContentError(`cannot read ${file}: ${(error as Error).message}`);
  }
  return parseTriageRules(source, path.relative(process.cwd(), file) || file);
}

let cached: TriageRules | undefined;

/** The shipped rules, read and validated once per process. */
export function triageRules(): TriageRules {
  cached ??= loadTriageRules();
  return cached;
}
