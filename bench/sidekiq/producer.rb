# frozen_string_literal: true

# A Sidekiq client process controlled by src/systems/sidekiq.ts: `ruby producer.rb URL THREADS`.
# Connects and prints {"type":"ready"}; on {"type":"run","work":…} performs the work (see
# ProducerWork in src/protocol.ts) and prints {"type":"done","written":N,"replies":[issued,
# replied,…],"usage":{…}} with its usage over the work; then waits for the next command.
#
# "N in flight" is N Ruby threads each calling Sidekiq::Client.push in turn, sharing Sidekiq's
# connection pool sized to N (THREADS): Sidekiq's client is blocking, and threads over one pool
# is how Ruby code enqueues concurrently. Steady work pushes from THREADS (100) threads too.
# Sequential and bulk work use one thread and Sidekiq's default client pool (5, lazily opened).
require_relative "common"

url = ARGV.fetch(0)
THREADS = Integer(ARGV.fetch(1))
Sidekiq.configure_client do |config|
  config.redis = THREADS > 1 ? {url: url, size: THREADS} : {url: url}
end

# Opens every connection of the pool now, so none is opened while measuring.
def warm_pool
  got = Thread::Queue.new
  release = Thread::Queue.new
  threads = Array.new(THREADS) do
    Thread.new do
      Sidekiq.redis do |conn|
        conn.ping
        got << true
        release.pop
      end
    end
  end
  THREADS.times { got.pop }
  THREADS.times { release << true }
  threads.each(&:join)
end

def fresh(f = 0)
  {"t" => Bench.now_millis, "d" => 0, "f" => f}
end

def push(payload, at = nil)
  item = {"class" => NoopJob, "args" => [payload]}
  item["at"] = at unless at.nil?
  Sidekiq::Client.push(item)
end

# Calls the block with 0...count from `threads` threads.
def in_threads(count, threads)
  next_index = 0
  lock = Mutex.new
  Array.new([threads, count].min) do
    Thread.new do
      loop do
        i = lock.synchronize { next_index < count ? (next_index += 1) - 1 : nil }
        break if i.nil?
        yield i
      end
    end
  end.each(&:join)
end

def due_time(first, i, count, spread)
  count <= 1 ? first : first + (spread * i.to_f / (count - 1)).round
end

def perform(work, replies)
  case work["kind"]
  when "sequential"
    work["count"].times { push(fresh) }
    work["count"]
  when "concurrent"
    in_threads(work["count"], work["inFlight"]) { push(fresh) }
    work["count"]
  when "bulk"
    klass = work["job"] == "failOnce" ? FailOnceJob : NoopJob
    f = work["job"] == "failOnce" ? 1 : 0
    count = work["count"]
    chunk = work["chunk"]
    (0...count).step(chunk) do |start|
      size = [chunk, count - start].min
      Sidekiq::Client.push_bulk("class" => klass, "args" => Array.new(size) { [fresh(f)] })
    end
    count
  when "steady"
    # Single pushes issued on a 1 ms tick at the target rate, each stamped as it is issued,
    # performed by THREADS threads (the issuing loop never waits for a reply).
    total = (work["rate"] * work["seconds"]).round
    issued_jobs = Thread::Queue.new
    lock = Mutex.new
    pushers = Array.new(THREADS) do
      Thread.new do
        while (payload = issued_jobs.pop)
          push(payload)
          replied = Bench.now_millis
          lock.synchronize { replies.push(payload["t"], replied) }
        end
      end
    end
    start = Bench.now_millis
    issued = 0
    while issued < total
      due = [total, ((Bench.now_millis - start) * work["rate"] / 1000).floor + 1].min
      while issued < due
        issued_jobs << fresh
        issued += 1
      end
      sleep 0.001
    end
    issued_jobs.close
    pushers.each(&:join)
    total
  when "scheduled"
    count = work["count"]
    first = (Bench.now_millis + work["leadMillis"]).ceil
    in_threads(count, work["inFlight"]) do |i|
      due = due_time(first, i, count, work["spreadMillis"])
      push({"t" => Bench.now_millis, "d" => due, "f" => 0}, due / 1000.0)
    end
    count
  else
    raise ArgumentError, "unknown work #{work["kind"].inspect}"
  end
end

warm_pool
Bench.reply(type: "ready")
while (message = Bench.command)
  next unless message["type"] == "run"
  usage = Bench::Usage.new
  replies = []
  written = perform(message["work"], replies)
  Bench.reply(type: "done", written: written, replies: replies, usage: usage.stop)
end
