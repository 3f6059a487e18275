# frozen_string_literal: true

# What the Sidekiq producer and worker scripts share: the job classes, the line protocol with
# the Node child that started the script (JSON lines on stdin and stdout), and usage
# accounting matching the Node children's (src/child.ts `startUsage`).
require "json"
require "etc"
require "sidekiq"

# Sidekiq logs to stdout by default; stdout is the control channel here, so its logger
# writes to stderr instead (same logger, same default level: a start and a done line per job).
# BENCH_SIDEKIQ_LOG=FILE appends it to FILE instead, to read after a run.
Sidekiq.logger = Sidekiq::Logger.new(ENV["BENCH_SIDEKIQ_LOG"] || $stderr, level: Logger::INFO)

module Bench
  QUEUE = "bench"

  # Epoch milliseconds with sub-ms precision, comparable with the Node side's
  # `performance.timeOrigin + performance.now()`.
  def self.now_millis
    Process.clock_gettime(Process::CLOCK_REALTIME, :float_millisecond)
  end

  # One JSON line to the Node child.
  def self.reply(object)
    $stdout.write("#{JSON.generate(object)}\n")
    $stdout.flush
  end

  # The next JSON line from the Node child; nil when stdin closed.
  def self.command
    line = $stdin.gets
    line && JSON.parse(line)
  end

  # CPU (Process.times: getrusage, user and system) and RSS (sampled every 20 ms by a thread)
  # of this process from `new` to `stop`.
  class Usage
    PAGE = Etc.sysconf(Etc::SC_PAGESIZE)

    def self.rss
      File.read("/proc/self/statm").split[1].to_i * PAGE
    end

    def initialize
      @times = Process.times
      @start_rss = Usage.rss
      @peak = @start_rss
      @sampler = Thread.new do
        loop do
          sleep 0.02
          rss = Usage.rss
          @peak = rss if rss > @peak
        end
      end
    end

    def stop
      @sampler.kill
      rss = Usage.rss
      @peak = rss if rss > @peak
      now = Process.times
      user = now.utime - @times.utime
      system = now.stime - @times.stime
      hwm = File.read("/proc/self/status")[/^VmHWM:\s+(\d+)/, 1].to_i * 1024
      {cpuSeconds: user + system, cpuSystemSeconds: system, peakRssBytes: @peak, startRssBytes: @start_rss, maxRssBytes: hwm}
    end
  end

  # What the worker counts: handler runs, and pickup and lateness of first attempts.
  module Stats
    @lock = Mutex.new
    @runs = 0
    @first_runs = 0
    @pickup = []
    @lateness = []

    class << self
      # Called first thing in every handler run; true makes the run fail.
      def on_job(payload, attempt)
        now = Bench.now_millis
        @lock.synchronize do
          @runs += 1
          if attempt == 1
            @first_runs += 1
            @pickup << now - payload["t"]
            @lateness << now - payload["d"] if payload["d"] > 0
          end
        end
        payload["f"] == 1 && attempt == 1
      end

      def report
        @lock.synchronize { {runs: @runs, firstRuns: @first_runs, pickup: @pickup, lateness: @lateness} }
      end
    end
  end

  # Server middleware: which attempt this run is (Sidekiq sets "retry_count" only on retries,
  # 0 for the first retry). Sidekiq passes the job hash to middleware, not to `perform`.
  class Attempt
    def call(_worker, job, _queue)
      Thread.current[:bench_attempt] = job.key?("retry_count") ? job["retry_count"] + 2 : 1
      yield
    end
  end
end

# A no-op job with Sidekiq's default retries (25).
class NoopJob
  include Sidekiq::Job
  sidekiq_options queue: Bench::QUEUE

  def perform(payload)
    Bench::Stats.on_job(payload, Thread.current[:bench_attempt])
  end
end

class FirstAttemptFails < StandardError; end

# Fails its first attempt; one retry after the shortest delay Sidekiq 6.4 accepts: a custom
# delay of 0 falls back to the default backoff, so 1 s (plus Sidekiq's jitter, 0-9 s for the
# first retry), then picked up by the retry poller at its default interval.
class FailOnceJob
  include Sidekiq::Job
  sidekiq_options queue: Bench::QUEUE, retry: 1
  sidekiq_retry_in { 1 }

  def perform(payload)
    raise FirstAttemptFails, "first attempt fails" if Bench::Stats.on_job(payload, Thread.current[:bench_attempt])
  end
end
