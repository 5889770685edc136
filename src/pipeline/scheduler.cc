#include "vigil/pipeline/scheduler.h"

#include <algorithm>
#include <cassert>
#include <exception>
#include <utility>

#include "vigil/core/logging.h"

namespace vigil {
namespace {

// The boundary where a runner's exceptions become a failed run.
Status RunCatching(const JobRunner& runner, const ScheduledJob& job, const std::string& reason) {
  try {
    return runner(job, reason);
  } catch (const std::exception& e) {
    return Internal(std::string("the runner threw: ") + e.what());
  } catch (...) {
    return Internal("the runner threw a non-standard exception");
  }
}

}  // namespace

Status SchedulerOptions::Validate() const {
  if (max_concurrent < 1) {
    return InvalidArgument("max_concurrent: must be at least 1, got " +
                           std::to_string(max_concurrent));
  }
  return Status::Ok();
}

Scheduler::Scheduler(SchedulerConfig config, const Clock& clock, JobRunner runner)
    : clock_(clock),
      runner_(std::move(runner)),
      options_(config.options),
      jobs_(std::move(config.jobs)),
      states_(jobs_.size()) {
  assert(options_.Validate().ok());
  const Timestamp now = clock_.Now();
  for (size_t job = 0; job < jobs_.size(); ++job) {
    if (jobs_[job].cron) states_[job].next_due = jobs_[job].cron->Next(now);
  }
}

Scheduler::~Scheduler() {
  std::vector<std::thread> threads;
  {
    std::unique_lock lock(mutex_);
    queue_.clear();
    for (JobState& state : states_) state.queued = false;
    changed_.wait(lock, [this] { return stats_.running == 0; });
    threads = std::move(threads_);
    finished_.clear();
  }
  for (std::thread& thread : threads) thread.join();
}

std::optional<size_t> Scheduler::FindJob(std::string_view name) const {
  for (size_t job = 0; job < jobs_.size(); ++job) {
    if (jobs_[job].name == name) return job;
  }
  return std::nullopt;
}

void Scheduler::EnqueueLocked(size_t job, std::string reason) {
  if (states_[job].queued) return;  // merged: the first reason stands
  states_[job].queued = true;
  queue_.push_back(Request{job, std::move(reason)});
  ++stats_.queued;
}

int Scheduler::StartQueuedLocked() {
  int started = 0;
  auto it = queue_.begin();
  while (it != queue_.end() && stats_.running < options_.max_concurrent) {
    JobState& state = states_[it->job];
    if (state.running) {  // never twice at once: it waits for the current run to end
      ++it;
      continue;
    }
    Request request = std::move(*it);
    it = queue_.erase(it);
    state.queued = false;
    state.running = true;
    ++stats_.started;
    ++stats_.running;
    try {
      threads_.emplace_back(&Scheduler::RunJob, this, request.job, request.reason);
      ++started;
    } catch (const std::exception& e) {
      // No thread (resource exhaustion): the run fails instead of wedging the job as running.
      VIGIL_LOG_ERROR("scheduler: job {} failed ({}): could not start a thread: {}",
                      jobs_[request.job].name, request.reason, e.what());
      state.running = false;
      --stats_.running;
      ++stats_.failed;
    }
  }
  return started;
}

std::vector<std::thread> Scheduler::TakeFinishedThreadsLocked() {
  std::vector<std::thread> done;
  for (std::thread::id id : finished_) {
    auto it = std::find_if(threads_.begin(), threads_.end(),
                           [id](const std::thread& thread) { return thread.get_id() == id; });
    assert(it != threads_.end());
    done.push_back(std::move(*it));
    threads_.erase(it);
  }
  finished_.clear();
  return done;
}

void Scheduler::RunJob(size_t job, std::string reason) {
  const ScheduledJob& scheduled = jobs_[job];
  VIGIL_LOG_INFO("scheduler: job {} started ({})", scheduled.name, reason);
  const Status status = RunCatching(runner_, scheduled, reason);
  if (status.ok()) {
    VIGIL_LOG_INFO("scheduler: job {} succeeded", scheduled.name);
  } else {
    VIGIL_LOG_ERROR("scheduler: job {} failed ({}): {}", scheduled.name, reason, status.ToString());
  }
  std::lock_guard lock(mutex_);
  states_[job].running = false;
  --stats_.running;
  ++(status.ok() ? stats_.succeeded : stats_.failed);
  finished_.push_back(std::this_thread::get_id());
  ++events_;
  changed_.notify_all();
}

int Scheduler::Tick() {
  std::vector<std::thread> finished;
  int started = 0;
  {
    std::lock_guard lock(mutex_);
    const Timestamp now = clock_.Now();
    for (size_t job = 0; job < jobs_.size(); ++job) {
      JobState& state = states_[job];
      if (!state.next_due || *state.next_due > now) continue;
      const CronSchedule& cron = *jobs_[job].cron;
      EnqueueLocked(job, "schedule: " + cron.expression());
      // From now, not from the missed due time: missed runs coalesce into this one.
      state.next_due = cron.Next(now);
    }
    started = StartQueuedLocked();
    finished = TakeFinishedThreadsLocked();
  }
  for (std::thread& thread : finished) thread.join();
  return started;
}

Status Scheduler::Trigger(std::string_view job, std::string_view reason) {
  const std::optional<size_t> index = FindJob(job);
  if (!index) return NotFound("scheduler: no job named '" + std::string(job) + "'");
  std::lock_guard lock(mutex_);
  EnqueueLocked(*index, std::string(reason));
  ++events_;
  changed_.notify_all();
  return Status::Ok();
}

void Scheduler::WaitIdle() {
  std::vector<std::thread> finished;
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return stats_.running == 0; });
    // With nothing running, every thread in threads_ has ended its run.
    finished = TakeFinishedThreadsLocked();
  }
  for (std::thread& thread : finished) thread.join();
}

void Scheduler::Run(const std::function<bool()>& should_stop, std::chrono::milliseconds poll) {
  while (!should_stop()) {
    uint64_t seen = 0;
    {
      std::lock_guard lock(mutex_);
      seen = events_;
    }
    Tick();
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, poll, [&] { return events_ != seen; });
  }
  WaitIdle();
}

SchedulerStats Scheduler::stats() const {
  std::lock_guard lock(mutex_);
  SchedulerStats stats = stats_;
  stats.waiting = static_cast<int64_t>(queue_.size());
  return stats;
}

std::optional<Timestamp> Scheduler::NextDue(std::string_view job) const {
  const std::optional<size_t> index = FindJob(job);
  if (!index) return std::nullopt;
  std::lock_guard lock(mutex_);
  return states_[*index].next_due;
}

}  // namespace vigil
