/**
 * A table lookup keyed by text a person typed. Plain objects inherit `constructor`, `toString`, `__proto__`…,
 * so `table[word]` would "find" those; only the table's own keys count here.
 */
export function lookup<V>(table: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
