/**
 * Byte bounds on text a store keeps or a worker logs: error messages, causes, dead reasons.
 * A cut is marked in the text itself, so a reader sees that something was left out and how much.
 */

/** UTF-8 length of a string without allocating. */
export const utf8Length = (text: string): number => {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x80) bytes += 1
    else if (code < 0x800) bytes += 2
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4
      i++
    } else bytes += 3
  }
  return bytes
}

/**
 * `text` when its UTF-8 form fits in `maxBytes`; else its longest head that fits together with
 * a marker saying how long the whole was (`… [cut: 1048576 bytes in all]`). Never splits a
 * character: the result is valid UTF-8 of at most `maxBytes` bytes.
 */
export const truncateUtf8 = (text: string, maxBytes: number): string => {
  if (text.length * 3 <= maxBytes) return text
  const bytes = utf8Length(text)
  if (bytes <= maxBytes) return text
  const marker = `… [cut: ${bytes} bytes in all]`
  const budget = Math.max(0, maxBytes - utf8Length(marker))
  let used = 0
  let end = 0
  while (end < text.length) {
    const code = text.charCodeAt(end)
    const pair = code >= 0xd800 && code <= 0xdbff && end + 1 < text.length
    const size = code < 0x80 ? 1 : code < 0x800 ? 2 : pair ? 4 : 3
    if (used + size > budget) break
    used += size
    end += pair ? 2 : 1
  }
  return text.slice(0, end) + marker
}
