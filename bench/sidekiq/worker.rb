# frozen_string_literal: true

# A Sidekiq worker process controlled by src/systems/sidekiq.ts: `ruby worker.rb URL CONCURRENCY`.
# Configures Sidekiq as its CLI would (server mode, pool of concurrency + 5 connections, every
# default), connects and prints {"type":"ready"}; on {"type":"go"} starts a Sidekiq::Launcher
# (fetchers, scheduled/retry poller, heartbeat); on {"type":"stop"} takes its usage, quiets the
# launcher, waits until no job is running, prints the result and exits. Shutdown is not measured,
# and `Launcher#stop` would also wait for every idle fetcher's BRPOP to time out (2 s), which
# alone kept `--quick` over a minute; the next run flushes Redis.
require "sidekiq/cli" # defines Sidekiq::CLI, so Sidekiq.server? is true as under `sidekiq`
require_relative "common"

url, concurrency = ARGV
Sidekiq.options[:concurrency] = Integer(concurrency)
Sidekiq.options[:queues] = [Bench::QUEUE]
Sidekiq.configure_server do |config|
  config.redis = {url: url}
  config.server_middleware { |chain| chain.add Bench::Attempt }
end
Sidekiq.redis { |conn| conn.ping }
Sidekiq.options[:identity] = Sidekiq::CLI.instance.identity
Sidekiq.server_middleware # built before the processor threads start, as the CLI does

# Whether a processor holds a fetched job (`Processor#job` is set from the fetch until it has
# run) or may be about to: its thread is runnable, so its BRPOP may have returned a job that the
# thread has not read yet. One blocked in BRPOP with nothing to read sleeps.
def busy?(launcher)
  launcher.manager.workers.to_a.any? { |processor| processor.job || processor.thread&.status == "run" }
rescue RuntimeError # the set changed while it was read: look again
  true
end

Bench.reply(type: "ready")
launcher = nil
usage = nil
while (message = Bench.command)
  case message["type"]
  when "go"
    usage = Bench::Usage.new
    launcher = Sidekiq::Launcher.new(Sidekiq.options)
    launcher.run
  when "stop"
    used = (usage || Bench::Usage.new).stop
    launcher&.quiet
    # A job a processor has fetched finishes, and is counted, before the result: the harness
    # stops once nothing is left in Redis, and with basic fetch a fetched job lives only here.
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 10
    sleep 0.001 while launcher && busy?(launcher) && Process.clock_gettime(Process::CLOCK_MONOTONIC) < deadline
    Bench.reply({type: "result", **Bench::Stats.report, **used})
    break
  end
end
exit!(0) # quiet and idle: Sidekiq's threads end with the process; as the CLI, no at_exit work
