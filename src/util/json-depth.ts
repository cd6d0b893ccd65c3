/**
 * How deeply a JSON.parse result nests objects and arrays, counted only up to just past
 * `max` (so the walk stops early on a hostile value). Iterative: the depth is the
 * client's, and JSON.stringify, node-llama-cpp's converters and any recursive walk
 * overflow the stack a few thousand levels down.
 */
export function jsonDepth(value: unknown, max: number): number {
  let deepest = 0;
  const todo: { v: unknown; d: number }[] = [{ v: value, d: 1 }];
  for (let top = todo.pop(); top !== undefined; top = todo.pop()) {
    const { v, d } = top;
    if (typeof v !== "object" || v === null) continue;
    if (d > deepest) deepest = d;
    if (deepest > max) return deepest;
    for (const x of Array.isArray(v) ? v : Object.values(v)) if (typeof x === "object" && x !== null) todo.push({ v: x, d: d + 1 });
  }
  return deepest;
}
