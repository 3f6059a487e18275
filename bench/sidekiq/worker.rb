# frozen_string_literal: true

# A Sidekiq worker process controlled by src/systems/sidekiq.ts: `ruby worker.rb URL CONCURRENCY`.
# Configures Sidekiq as its CLI would (server mode, pool of concurrency + 5 connections, every
# default), connects and prints {"type":"ready"}; on {"type":"go"} starts a Sidekiq::Launcher
# (fetchers, scheduled/retry poller, heartbeat); on {"type":"stop"} takes its usage, quiets the
# launcher, ends its processors once each has run the job it holds (`stop_processors`), prints
# the result and exits. Shutdown is not measured; the next run flushes Redis.
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

# Stops a quieted launcher's processors without `Launcher#stop`, which waits for every idle
# fetcher's BRPOP to time out (2 s each time): their blocked BRPOPs are ended at once with
# CLIENT UNBLOCK (as a timeout, so no job is popped), again until every processor has finished
# its job and left; true once they all have. A processor between two BRPOPs when the list is
# read blocks in the next one, so the list is read again every 20 ms.
def stop_processors(launcher, seconds)
  deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + seconds
  until launcher.manager.workers.empty?
    return false if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
    Sidekiq.redis do |conn|
      conn.client(:list).each { |c| conn.client(:unblock, c["id"]) if c["cmd"] == "brpop" }
    end
    sleep 0.02
  end
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
    if launcher
      launcher.quiet
      # Every fetched job runs, and is counted, before the result: with basic fetch a fetched
      # job lives only in this process, and the harness stops once nothing is left in Redis.
      warn "bench: Sidekiq processors still busy after 10 s; counts may be short" unless stop_processors(launcher, 10)
    end
    Bench.reply({type: "result", **Bench::Stats.report, **used})
    break
  end
end
exit!(0) # quiet and idle: Sidekiq's threads end with the process; as the CLI, no at_exit work
