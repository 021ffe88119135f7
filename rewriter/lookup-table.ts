/**
 * A table looked up by names that models, files or users supply (op types, domains, attribute
 * strings, methods, commands): without Object.prototype, so that `constructor`, `toString` or
 * `__proto__` find nothing (an op or option of that name is unknown) instead of a function.
 */
export function lookupTable<K extends string, T>(entries: Record<K, T>): Record<K, T> {
  return Object.assign(Object.create(null) as Record<K, T>, entries);
}
