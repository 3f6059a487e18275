// Enqueues three Greet jobs through the promise client: node enqueue.mjs <redis-url> <prefix>
import { PromiseClient } from "@effect-jobs/core"
import { RedisBackend } from "@effect-jobs/redis"
import { Greet } from "./jobs.mjs"

const [url, prefix] = process.argv.slice(2)
const jobs = await PromiseClient.make(RedisBackend.layer({ url, prefix }))
const ids = []
for (const name of ["ada", "grace", "edsger"]) ids.push(await jobs.enqueue(Greet, { name }))
await jobs.close()
console.log(`enqueued ${ids.length}`)
