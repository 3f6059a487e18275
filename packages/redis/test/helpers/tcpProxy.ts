/**
 * A loopback TCP proxy in front of Redis that can cut its connections: every client
 * connection gets its own upstream connection, and `cut` destroys both ends at once, so
 * commands in flight lose their replies (Redis may have run them) and the client reconnects.
 */
import * as Net from "node:net"

export interface TcpProxy {
  /** `redis://127.0.0.1:<port>` of the proxy. */
  readonly url: string
  /** Connections open now. */
  readonly open: () => number
  /** Destroys each open connection with probability `share`; returns how many were cut. */
  readonly cut: (share: number) => number
  readonly close: () => Promise<void>
}

/** Starts a proxy to `127.0.0.1:<upstreamPort>`. */
export const startTcpProxy = (upstreamPort: number): Promise<TcpProxy> => {
  const pairs = new Set<{ readonly client: Net.Socket; readonly upstream: Net.Socket }>()
  const server = Net.createServer((client) => {
    const upstream = Net.connect(upstreamPort, "127.0.0.1")
    const pair = { client, upstream }
    pairs.add(pair)
    const end = () => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on("error", end)
    upstream.on("error", end)
    client.on("close", end)
    upstream.on("close", end)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  return new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as Net.AddressInfo
      resolve({
        url: `redis://127.0.0.1:${port}`,
        open: () => pairs.size,
        cut: (share) => {
          let cut = 0
          for (const pair of [...pairs]) {
            if (Math.random() >= share) continue
            pairs.delete(pair)
            pair.client.destroy()
            pair.upstream.destroy()
            cut++
          }
          return cut
        },
        close: () =>
          new Promise<void>((done) => {
            for (const pair of pairs) {
              pair.client.destroy()
              pair.upstream.destroy()
            }
            pairs.clear()
            server.close(() => done())
          })
      })
    })
  })
}
