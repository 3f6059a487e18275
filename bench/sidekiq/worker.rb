# frozen_string_literal: true

# A Sidekiq worker process controlled by src/systems/sidekiq.ts: `ruby worker.rb URL CONCURRENCY`.
# Configures Sidekiq as its CLI would (server mode, pool of concurrency + 5 connections, every
# default), connects and prints {"type":"ready"}; on {"type":"go"} starts a Sidekiq::Launcher
# (fetchers, scheduled/retry poller, heartbeat); on {"type":"stop"} takes its usage, shuts down
# gracefully (not measured) and prints the result.
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
    launcher&.stop
    Bench.reply({type: "result", **Bench::Stats.report, **used})
    break
  end
end
exit!(0) # Sidekiq's threads are done or stopped; as the CLI, do not wait on at_exit work
