/** "Did you mean" for names typed by hand (job names, queue names). */

const distance = (a: string, b: string): number => {
  const previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0]!
    previous[0] = i
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j]!
      previous[j] = a[i - 1] === b[j - 1] ? diagonal : 1 + Math.min(diagonal, above, previous[j - 1]!)
      diagonal = above
    }
  }
  return previous[b.length]!
}

/** Candidates close to `input` (case-insensitive edit distance), closest first. */
export const suggest = (input: string, candidates: Iterable<string>): ReadonlyArray<string> => {
  const lower = input.toLowerCase()
  const scored: Array<readonly [string, number]> = []
  for (const candidate of candidates) {
    const d = distance(lower, candidate.toLowerCase())
    if (d <= Math.max(2, Math.floor(candidate.length / 3))) scored.push([candidate, d])
  }
  return scored.sort((x, y) => x[1] - y[1]).map(([candidate]) => candidate)
}

/** ` Did you mean X?` or nothing. */
export const didYouMean = (input: string, candidates: Iterable<string>): string => {
  const [best] = suggest(input, candidates)
  return best === undefined ? "" : ` Did you mean ${best}?`
}
