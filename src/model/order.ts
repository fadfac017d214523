/**
 * Plain string order (UTF-16 code units), for every list the generator sorts. Unlike
 * localeCompare it is the same on every machine (a committed file sorted by the machine's locale
 * churns between teammates) and costs nothing to start (the first collator loads ICU: ~5 ms).
 */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
