// The retraining scheduler: runs training jobs when their cron schedule says so or when
// monitoring triggers them (drift), never more than a configured number at once.
//
//   VIGIL_ASSIGN_OR_RETURN(vigil::SchedulerConfig config,
//                          vigil::LoadSchedulerConfig("scheduler.yaml"));
//   vigil::Scheduler scheduler(config, vigil::SystemClock(), RunOneJob);
//   scheduler.Run([] { return stop_requested.load(); }, std::chrono::seconds(1));
//   // elsewhere, on drift:
//   (void)scheduler.Trigger("btc_direction", "drift: psi(rsi_14)=0.31");
//
// Semantics
// - A job's first due time is its cron's Next(clock.Now() at construction). A Tick at
//   time t queues every job whose due time is <= t (reason "schedule: <cron expression>")
//   and sets its next due time to cron.Next(t): runs missed while the process was busy or
//   asleep are coalesced into one, never replayed one by one.
// - A job is queued at most once: a request for a job already queued is merged into it
//   (the first reason is kept). A job never runs twice at once: a request for a running
//   job waits in the queue until that run ends.
// - Queued jobs start in queue order, each on its own thread, while fewer than
//   max_concurrent are running. The runner's Status counts the run as succeeded or
//   failed; a failure is logged and does not stop the scheduler. An exception thrown by
//   the runner counts as a failure (it never escapes the scheduler).
// - Time comes only from the injected Clock, so tests drive it with a ManualClock and
//   Tick(); Run() additionally sleeps `poll` of real time between ticks.
//
// Thread-safety: every public method may be called from any thread. The destructor waits
// for running jobs and drops queued ones.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "vigil/core/clock.h"
#include "vigil/core/status.h"
#include "vigil/pipeline/cron.h"

namespace vigil {

struct ScheduledJob {
  std::string name;                  // unique within a scheduler; non-empty
  std::filesystem::path config;      // the training config file (absolute after loading)
  std::optional<CronSchedule> cron;  // absent: runs only when triggered
};

struct SchedulerOptions {
  int max_concurrent = 1;  // jobs running at once, >= 1

  // InvalidArgument naming the field.
  Status Validate() const;
};

struct SchedulerConfig {
  SchedulerOptions options;
  std::vector<ScheduledJob> jobs;
};

// Reads a scheduler file:
//   max_concurrent: 2            # optional, default 1
//   jobs:
//     - name: btc_direction      # optional, default: the config file's stem
//       config: btc_direction.yaml   # relative to the scheduler file's directory
//       cron: "*/30 * * * *"     # optional; without it the job runs only on a trigger
// Errors name the file, the line and the key (InvalidArgument), e.g.
//   "sched.yaml:4: jobs[0].cron: minute: 61 is out of range 0-59". Also fails on an unknown
// key, a duplicate job name, no jobs, or a config file that does not exist (NotFound).
Result<SchedulerConfig> LoadSchedulerConfig(const std::filesystem::path& path);
// The same from YAML text; relative config paths resolve against `base_dir`, and errors
// name `source`.
Result<SchedulerConfig> ParseSchedulerConfig(std::string_view yaml_text, std::string_view source,
                                             const std::filesystem::path& base_dir);

// Runs one job; `reason` is the trigger ("schedule: 0 3 * * *", "drift: ...", "manual").
// Called on a scheduler thread, concurrently for different jobs when max_concurrent > 1.
using JobRunner = std::function<Status(const ScheduledJob& job, const std::string& reason)>;

struct SchedulerStats {
  int64_t queued = 0;  // requests accepted into the queue (merged ones not counted)
  int64_t started = 0;
  int64_t succeeded = 0;
  int64_t failed = 0;
  int64_t running = 0;  // now
  int64_t waiting = 0;  // now, in the queue
};

class Scheduler {
 public:
  // Precondition: config.options is valid and job names are unique (LoadSchedulerConfig
  // guarantees both). `clock` must outlive the scheduler.
  Scheduler(SchedulerConfig config, const Clock& clock, JobRunner runner);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues due jobs as of clock.Now() and starts queued ones up to the cap; returns how
  // many runs it started.
  int Tick();
  // Queues `job` now with `reason` (the drift hook); it starts on the next Tick (or at
  // once inside Run). NotFound naming the job when there is no such job.
  Status Trigger(std::string_view job, std::string_view reason);
  // Blocks until nothing is running (queued jobs that cannot start without a Tick stay).
  void WaitIdle();
  // Foreground loop: Tick, wait up to `poll` (woken early by Trigger or a finished run),
  // repeat until should_stop() returns true; then waits for running jobs.
  void Run(const std::function<bool()>& should_stop, std::chrono::milliseconds poll);

  SchedulerStats stats() const;
  // When `job` is next due by its cron (nullopt without a cron or for an unknown job).
  std::optional<Timestamp> NextDue(std::string_view job) const;

 private:
  struct JobState {
    std::optional<Timestamp> next_due;  // by the cron; nullopt without one
    bool queued = false;                // a Request for this job is in queue_
    bool running = false;
  };
  struct Request {
    size_t job = 0;
    std::string reason;
  };
  std::optional<size_t> FindJob(std::string_view name) const;
  void EnqueueLocked(size_t job, std::string reason);
  int StartQueuedLocked();
  // Moves the threads whose run has ended out of threads_, for joining without the lock.
  std::vector<std::thread> TakeFinishedThreadsLocked();
  void RunJob(size_t job, std::string reason);

  const Clock& clock_;
  const JobRunner runner_;
  const SchedulerOptions options_;
  const std::vector<ScheduledJob> jobs_;  // immutable, so read without the lock
  mutable std::mutex mutex_;
  std::condition_variable changed_;   // a run ended or a request arrived
  std::vector<JobState> states_;      // GUARDED_BY(mutex_), one per job
  std::deque<Request> queue_;         // GUARDED_BY(mutex_)
  std::vector<std::thread> threads_;  // GUARDED_BY(mutex_); joined in Tick / WaitIdle / destructor
  std::vector<std::thread::id> finished_;  // GUARDED_BY(mutex_); threads_ whose run has ended
  uint64_t events_ = 0;   // GUARDED_BY(mutex_); counts notifications of changed_, so Run
                          // cannot miss one that arrives while it ticks
  SchedulerStats stats_;  // GUARDED_BY(mutex_); `waiting` is filled in by stats()
};

}  // namespace vigil
