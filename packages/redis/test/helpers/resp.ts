/**
 * A minimal RESP2 codec for test and benchmark admin commands (`INFO`, `FLUSHALL`, `LLEN`…),
 * so harnesses can talk to a server without loading ioredis.
 */

/** A RESP2 reply; error replies are `Error` values. */
export type Reply = string | number | null | Error | ReadonlyArray<Reply>

/** Encodes one command as a RESP2 array of bulk strings. */
export const encodeCommand = (args: ReadonlyArray<string | number>): string =>
  `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join("")}`

/** Parses one reply from `buffer` at `offset`: the reply and the next offset, `undefined` when incomplete. */
export const parseReply = (buffer: Buffer, offset: number): [Reply, number] | undefined => {
  if (offset >= buffer.length) return undefined
  const end = buffer.indexOf("\r\n", offset)
  if (end < 0) return undefined
  const type = String.fromCharCode(buffer[offset]!)
  const line = buffer.toString("utf8", offset + 1, end)
  const next = end + 2
  switch (type) {
    case "+":
      return [line, next]
    case "-":
      return [new Error(line), next]
    case ":":
      return [Number(line), next]
    case "$": {
      const length = Number(line)
      if (length < 0) return [null, next]
      if (buffer.length < next + length + 2) return undefined
      return [buffer.toString("utf8", next, next + length), next + length + 2]
    }
    case "*": {
      const count = Number(line)
      if (count < 0) return [null, next]
      const items: Array<Reply> = []
      let at = next
      for (let i = 0; i < count; i++) {
        const item = parseReply(buffer, at)
        if (item === undefined) return undefined
        items.push(item[0])
        at = item[1]
      }
      return [items, at]
    }
    default:
      return [new Error(`unexpected RESP type ${JSON.stringify(type)}: ${line}`), next]
  }
}
