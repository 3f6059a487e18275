/** Queue names are used inside store keys (and Redis hash tags), so they stay plain. */
const pattern = /^[A-Za-z0-9_.:-]{1,100}$/

/** The problem with a queue name, or `undefined` when it is fine. */
export const queueNameProblem = (name: string): string | undefined =>
  pattern.test(name)
    ? undefined
    : `queue name ${JSON.stringify(name)} must be 1-100 characters of letters, digits, '_', '.', ':' or '-'`
