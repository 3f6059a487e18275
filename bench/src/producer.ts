/**
 * A producer process: connects, says `ready`, performs its `ProducerWork` on `go`, reports
 * jobs written, time taken, its own CPU and (steady work) how long each enqueue took to be
 * acknowledged, then exits. Started by `main.ts`.
 */
import { die, finish, listen, Samples, send, startUsage, taskArgument } from "./child.ts"
import { nowMillis, type ProducerTask } from "./protocol.ts"
import { load } from "./systems/System.ts"

const main = async () => {
  const task = taskArgument<ProducerTask>()
  const system = await load(task.system)
  const producer = await system.producer(task.url, task.work)
  listen(async (message) => {
    if (message.type !== "go") return
    try {
      const usage = startUsage()
      const start = nowMillis()
      const replies = new Samples()
      const written = await producer.run(task.work, (issuedAt, repliedAt = nowMillis()) =>
        replies.push(repliedAt - issuedAt)
      )
      const millis = nowMillis() - start
      const own = usage()
      // A producer working in another process (Sidekiq) reports that process's usage.
      const used = producer.usage?.() ?? own
      await producer.close()
      await send({
        type: "result",
        written,
        millis,
        rate: written / (millis / 1000),
        enqueueLatency: replies.distribution(),
        ...used
      })
      finish()
    } catch (error) {
      die(error)
    }
  })
  await send({ type: "ready" })
}

main().catch(die)
