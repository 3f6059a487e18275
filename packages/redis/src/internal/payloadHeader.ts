/**
 * The optional header a stored payload may open with: the trace context of the span that
 * enqueued the job (`NewJob.trace`, a W3C `traceparent`).
 *
 * A payload field holds either the JSON text the client wrote, or `\x01<header>\x01` followed
 * by that text. JSON text never starts with `\x01`, so records written before the header
 * existed read as they always did, and the Lua scripts, which never read payloads, need no
 * change. The header is at most `maxHeaderLength` characters; a reader that does not
 * recognise what is in it ignores it and still finds the payload after it.
 */

const marker = "\u0001"
const markerCode = 1
/** The longest header a reader looks for; a version-00 `traceparent` is 55 characters. */
export const maxHeaderLength = 256
const traceparent = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/

/** The text to store: the payload, behind a header when the job carries a well-formed trace. */
export const encode = (payload: string, trace: string | undefined): string =>
  trace === undefined || !traceparent.test(trace) ? payload : `${marker}${trace}${marker}${payload}`

/** Where the header's closing marker is, or -1 when the text has no header (searched no further than a header's length). */
const headerEnd = (stored: string): number => {
  if (stored.charCodeAt(0) !== markerCode) return -1
  const end = stored.indexOf(marker, 1)
  return end > maxHeaderLength + 1 ? -1 : end
}

/** The payload JSON text of a stored field (the field itself when it has no header). */
export const payloadOf = (stored: string): string => {
  const end = headerEnd(stored)
  return end < 0 ? stored : stored.slice(end + 1)
}

/** The trace context a stored field carries, if any. */
export const traceOf = (stored: string): string | undefined => {
  const end = headerEnd(stored)
  if (end < 0) return undefined
  const header = stored.slice(1, end)
  return traceparent.test(header) ? header : undefined
}
