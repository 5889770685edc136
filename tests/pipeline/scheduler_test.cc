#include "vigil/pipeline/scheduler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "vigil/core/logging.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

Timestamp T(std::string_view iso) {
  Result<Timestamp> t = Timestamp::ParseIso(iso);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.value_or(Timestamp());
}

struct Call {
  std::string job;
  std::string reason;
  bool operator==(const Call&) const = default;
};

void PrintTo(const Call& call, std::ostream* os) { *os << call.job << " (" << call.reason << ")"; }

// A runner whose behaviour follows the job name: "fail*" returns an error, "throw*" throws,
// "block*" waits until Release(); anything else succeeds. It records every call and the
// most runs it saw at once, overall and of one job.
class FakeRunner {
 public:
  JobRunner AsRunner() {
    return [this](const ScheduledJob& job, const std::string& reason) { return Run(job, reason); };
  }

  // Lets blocked runs, and every later "block*" run, go on. Idempotent.
  void Release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }
  // Blocks until the runner has been entered `count` times.
  void WaitForCalls(size_t count) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return calls_.size() >= count; });
  }

  std::vector<Call> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  int ended() const {
    std::lock_guard lock(mutex_);
    return ended_;
  }
  int max_running() const {
    std::lock_guard lock(mutex_);
    return max_running_;
  }
  int max_running_of_one_job() const {
    std::lock_guard lock(mutex_);
    return max_running_of_one_job_;
  }

 private:
  Status Run(const ScheduledJob& job, const std::string& reason) {
    std::unique_lock lock(mutex_);
    calls_.push_back({job.name, reason});
    ++running_;
    const int of_this_job = ++running_by_job_[job.name];
    max_running_ = std::max(max_running_, running_);
    max_running_of_one_job_ = std::max(max_running_of_one_job_, of_this_job);
    changed_.notify_all();
    if (job.name.starts_with("block")) changed_.wait(lock, [&] { return released_; });
    --running_;
    --running_by_job_[job.name];
    ++ended_;
    lock.unlock();
    if (job.name.starts_with("fail")) return Internal("training diverged at fold 3");
    if (job.name.starts_with("throw")) throw std::runtime_error("bad_alloc in the trainer");
    return Status::Ok();
  }

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Call> calls_;
  std::map<std::string, int> running_by_job_;
  bool released_ = false;
  int running_ = 0;
  int ended_ = 0;
  int max_running_ = 0;
  int max_running_of_one_job_ = 0;
};

ScheduledJob Job(std::string name, std::optional<std::string> cron = std::nullopt) {
  ScheduledJob job;
  job.config = "/configs/" + name + ".yaml";
  job.name = std::move(name);
  if (cron) job.cron = *CronSchedule::Parse(*cron);
  return job;
}

SchedulerConfig Config(std::vector<ScheduledJob> jobs, int max_concurrent = 1) {
  SchedulerConfig config;
  config.options.max_concurrent = max_concurrent;
  config.jobs = std::move(jobs);
  return config;
}

class SchedulerTest : public ::testing::Test {
 protected:
  // Blocked runs are released first, so a failing test cannot hang in ~Scheduler.
  void TearDown() override {
    runner_.Release();
    scheduler_.reset();
  }

  Scheduler& Start(SchedulerConfig config) {
    scheduler_ = std::make_unique<Scheduler>(std::move(config), clock_, runner_.AsRunner());
    return *scheduler_;
  }

  ManualClock clock_{T("2024-01-01T00:10:00Z")};
  FakeRunner runner_;
  std::unique_ptr<Scheduler> scheduler_;
};

TEST_F(SchedulerTest, CronJobRunsWhenTheClockPassesEachHalfHourAndNotBefore) {
  Scheduler& scheduler = Start(Config({Job("retrain", "*/30 * * * *")}));
  EXPECT_EQ(scheduler.NextDue("retrain"), T("2024-01-01T00:30:00Z"));
  EXPECT_EQ(scheduler.Tick(), 0);
  clock_.Set(T("2024-01-01T00:29:59.999Z"));
  EXPECT_EQ(scheduler.Tick(), 0);
  clock_.Set(T("2024-01-01T00:30:00Z"));
  EXPECT_EQ(scheduler.Tick(), 1);
  scheduler.WaitIdle();
  EXPECT_EQ(scheduler.NextDue("retrain"), T("2024-01-01T01:00:00Z"));
  clock_.Set(T("2024-01-01T00:59:00Z"));
  EXPECT_EQ(scheduler.Tick(), 0);
  clock_.Set(T("2024-01-01T01:00:20Z"));
  EXPECT_EQ(scheduler.Tick(), 1);
  scheduler.WaitIdle();
  EXPECT_THAT(runner_.calls(), ElementsAre(Call{"retrain", "schedule: */30 * * * *"},
                                           Call{"retrain", "schedule: */30 * * * *"}));
  EXPECT_EQ(scheduler.NextDue("retrain"), T("2024-01-01T01:30:00Z"));
}

TEST_F(SchedulerTest, MissedRunsCoalesceIntoOne) {
  Scheduler& scheduler = Start(Config({Job("retrain", "*/30 * * * *")}));
  clock_.Set(T("2024-01-01T05:17:00Z"));  // ten half hours missed
  EXPECT_EQ(scheduler.Tick(), 1);
  scheduler.WaitIdle();
  EXPECT_EQ(scheduler.Tick(), 0);
  scheduler.WaitIdle();
  EXPECT_EQ(runner_.calls().size(), 1u);
  EXPECT_EQ(scheduler.stats().queued, 1);
  EXPECT_EQ(scheduler.NextDue("retrain"), T("2024-01-01T05:30:00Z"));
}

TEST_F(SchedulerTest, TriggerQueuesWithItsReasonAndDedupes) {
  Scheduler& scheduler = Start(Config({Job("btc_direction"), Job("eth_vol", "0 * * * *")}));
  ASSERT_TRUE(scheduler.Trigger("btc_direction", "drift: psi(rsi_14)=0.31").ok());
  ASSERT_TRUE(scheduler.Trigger("btc_direction", "manual").ok());
  ASSERT_TRUE(scheduler.Trigger("eth_vol", "manual").ok());
  EXPECT_EQ(scheduler.stats().queued, 2);
  EXPECT_EQ(scheduler.stats().waiting, 2);
  EXPECT_TRUE(runner_.calls().empty());  // nothing starts before a Tick
  // eth_vol also falls due: merged into the queued request, whose reason stands.
  clock_.Set(T("2024-01-01T01:00:00Z"));
  EXPECT_EQ(scheduler.Tick(), 1);
  scheduler.WaitIdle();
  EXPECT_EQ(scheduler.Tick(), 1);
  scheduler.WaitIdle();
  EXPECT_THAT(runner_.calls(), ElementsAre(Call{"btc_direction", "drift: psi(rsi_14)=0.31"},
                                           Call{"eth_vol", "manual"}));
  EXPECT_EQ(scheduler.stats().queued, 2);
  EXPECT_EQ(scheduler.NextDue("eth_vol"), T("2024-01-01T02:00:00Z"));

  const Status unknown = scheduler.Trigger("sol_liq", "manual");
  EXPECT_EQ(unknown.code(), StatusCode::kNotFound);
  EXPECT_THAT(unknown.message(), HasSubstr("'sol_liq'"));
  EXPECT_EQ(scheduler.NextDue("btc_direction"), std::nullopt);
  EXPECT_EQ(scheduler.NextDue("sol_liq"), std::nullopt);
}

TEST_F(SchedulerTest, QueuedJobsStartInQueueOrder) {
  Scheduler& scheduler = Start(Config({Job("a"), Job("b"), Job("c")}));
  for (const char* name : {"c", "a", "b"}) ASSERT_TRUE(scheduler.Trigger(name, "manual").ok());
  for (int tick = 0; tick < 3; ++tick) {
    EXPECT_EQ(scheduler.Tick(), 1);
    scheduler.WaitIdle();
  }
  EXPECT_THAT(runner_.calls(),
              ElementsAre(Call{"c", "manual"}, Call{"a", "manual"}, Call{"b", "manual"}));
}

TEST_F(SchedulerTest, NeverMoreThanMaxConcurrentAtOnce) {
  Scheduler& scheduler =
      Start(Config({Job("block_1"), Job("block_2"), Job("block_3"), Job("block_4"), Job("block_5")},
                   /*max_concurrent=*/2));
  for (const char* name : {"block_1", "block_2", "block_3", "block_4", "block_5"}) {
    ASSERT_TRUE(scheduler.Trigger(name, "manual").ok());
  }
  EXPECT_EQ(scheduler.Tick(), 2);
  runner_.WaitForCalls(2);
  EXPECT_EQ(scheduler.Tick(), 0);  // the cap is reached
  SchedulerStats stats = scheduler.stats();
  EXPECT_EQ(stats.running, 2);
  EXPECT_EQ(stats.waiting, 3);
  EXPECT_EQ(stats.started, 2);
  EXPECT_THAT(runner_.calls(),
              UnorderedElementsAre(Call{"block_1", "manual"}, Call{"block_2", "manual"}));
  runner_.Release();
  scheduler.WaitIdle();
  EXPECT_EQ(scheduler.Tick(), 2);
  scheduler.WaitIdle();
  EXPECT_EQ(scheduler.Tick(), 1);
  scheduler.WaitIdle();
  EXPECT_EQ(runner_.calls().size(), 5u);
  EXPECT_EQ(runner_.max_running(), 2);
  stats = scheduler.stats();
  EXPECT_EQ(stats.succeeded, 5);
  EXPECT_EQ(stats.running, 0);
  EXPECT_EQ(stats.waiting, 0);
}

TEST_F(SchedulerTest, RequestForARunningJobWaitsUntilTheRunEnds) {
  Scheduler& scheduler = Start(Config({Job("block_btc", "0 * * * *")}, /*max_concurrent=*/2));
  ASSERT_TRUE(scheduler.Trigger("block_btc", "first").ok());
  EXPECT_EQ(scheduler.Tick(), 1);
  runner_.WaitForCalls(1);
  ASSERT_TRUE(scheduler.Trigger("block_btc", "second").ok());
  clock_.Set(T("2024-01-01T01:00:00Z"));  // due by cron too: merged into "second"
  EXPECT_EQ(scheduler.Tick(), 0);         // a slot is free, but the job is running
  ASSERT_TRUE(scheduler.Trigger("block_btc", "third").ok());
  SchedulerStats stats = scheduler.stats();
  EXPECT_EQ(stats.queued, 2);
  EXPECT_EQ(stats.running, 1);
  EXPECT_EQ(stats.waiting, 1);
  runner_.Release();
  scheduler.WaitIdle();
  EXPECT_EQ(scheduler.Tick(), 1);
  scheduler.WaitIdle();
  EXPECT_THAT(runner_.calls(),
              ElementsAre(Call{"block_btc", "first"}, Call{"block_btc", "second"}));
  EXPECT_EQ(runner_.max_running_of_one_job(), 1);
}

TEST_F(SchedulerTest, FailuresAndExceptionsAreCountedAndLogged) {
  auto log = std::make_shared<std::ostringstream>();
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*log);
  Logger().sinks().push_back(sink);
  Scheduler& scheduler =
      Start(Config({Job("ok_btc"), Job("fail_eth"), Job("throw_sol")}, /*max_concurrent=*/3));
  for (const char* name : {"ok_btc", "fail_eth", "throw_sol"}) {
    ASSERT_TRUE(scheduler.Trigger(name, "manual").ok());
  }
  EXPECT_EQ(scheduler.Tick(), 3);
  scheduler.WaitIdle();
  SchedulerStats stats = scheduler.stats();
  EXPECT_EQ(stats.queued, 3);
  EXPECT_EQ(stats.started, 3);
  EXPECT_EQ(stats.succeeded, 1);
  EXPECT_EQ(stats.failed, 2);
  EXPECT_EQ(stats.running, 0);
  EXPECT_EQ(stats.waiting, 0);
  // The scheduler goes on after failures.
  ASSERT_TRUE(scheduler.Trigger("throw_sol", "manual").ok());
  EXPECT_EQ(scheduler.Tick(), 1);
  scheduler.WaitIdle();
  EXPECT_EQ(scheduler.stats().failed, 3);
  Logger().sinks().pop_back();
  EXPECT_THAT(log->str(), HasSubstr("fail_eth"));
  EXPECT_THAT(log->str(), HasSubstr("training diverged at fold 3"));
  EXPECT_THAT(log->str(), HasSubstr("throw_sol"));
  EXPECT_THAT(log->str(), HasSubstr("bad_alloc in the trainer"));
}

TEST_F(SchedulerTest, RunStartsTriggeredJobsAtOnceThenStopsAndWaits) {
  Scheduler& scheduler = Start(Config({Job("block_btc")}));
  std::atomic<bool> stop = false;
  std::atomic<bool> returned = false;
  // A long poll: only Trigger and finished runs can wake the loop in time.
  std::thread loop([&] {
    scheduler.Run([&] { return stop.load(); }, std::chrono::minutes(10));
    returned = true;
  });
  ASSERT_TRUE(scheduler.Trigger("block_btc", "drift: psi=0.4").ok());
  runner_.WaitForCalls(1);
  ASSERT_TRUE(scheduler.Trigger("block_btc", "manual").ok());  // waits for the first run
  stop = true;
  // Nothing may end the loop while the run is blocked: a wrong early return would usually
  // show here, and a correct scheduler cannot fail this check however slow the machine.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(returned);
  runner_.Release();
  loop.join();
  EXPECT_EQ(runner_.ended(), static_cast<int>(runner_.calls().size()));
  const SchedulerStats stats = scheduler.stats();
  EXPECT_EQ(stats.running, 0);
  EXPECT_EQ(stats.started, stats.succeeded);
  EXPECT_EQ(runner_.calls().front(), (Call{"block_btc", "drift: psi=0.4"}));
}

TEST_F(SchedulerTest, RunStartsAWaitingRequestWhenTheRunningOneEnds) {
  Scheduler& scheduler = Start(Config({Job("block_btc")}));
  ASSERT_TRUE(scheduler.Trigger("block_btc", "first").ok());
  ASSERT_TRUE(scheduler.Tick() == 1);
  runner_.WaitForCalls(1);
  ASSERT_TRUE(scheduler.Trigger("block_btc", "second").ok());
  std::thread loop([&] {
    scheduler.Run([&] { return scheduler.stats().succeeded == 2; }, std::chrono::minutes(10));
  });
  runner_.Release();
  loop.join();
  EXPECT_THAT(runner_.calls(),
              ElementsAre(Call{"block_btc", "first"}, Call{"block_btc", "second"}));
}

TEST_F(SchedulerTest, RunTicksOnItsOwnAndStopsWithoutEvents) {
  Scheduler& scheduler = Start(Config({Job("retrain", "*/30 * * * *")}));
  clock_.Set(T("2024-01-01T00:30:00Z"));
  int polls = 0;
  // Stops once the due run has finished; only the poll timeout wakes the loop after that.
  scheduler.Run(
      [&] {
        ++polls;
        return scheduler.stats().succeeded == 1 && polls > 3;
      },
      std::chrono::milliseconds(1));
  EXPECT_THAT(runner_.calls(), ElementsAre(Call{"retrain", "schedule: */30 * * * *"}));
  EXPECT_EQ(scheduler.stats().running, 0);
}

TEST_F(SchedulerTest, DestructorWaitsForRunningJobsAndDropsQueuedOnes) {
  Scheduler& scheduler = Start(Config({Job("block_btc"), Job("eth_vol")}));
  ASSERT_TRUE(scheduler.Trigger("block_btc", "manual").ok());
  ASSERT_TRUE(scheduler.Trigger("eth_vol", "manual").ok());
  EXPECT_EQ(scheduler.Tick(), 1);
  runner_.WaitForCalls(1);
  std::thread destroy([&] { scheduler_.reset(); });
  runner_.Release();
  destroy.join();
  EXPECT_EQ(runner_.ended(), 1);  // the run ended before the destructor returned
  EXPECT_THAT(runner_.calls(), ElementsAre(Call{"block_btc", "manual"}));
}

TEST_F(SchedulerTest, DestructorWithFinishedButUnjoinedRuns) {
  Scheduler& scheduler = Start(Config({Job("ok_btc"), Job("fail_eth")}, 2));
  ASSERT_TRUE(scheduler.Trigger("ok_btc", "manual").ok());
  ASSERT_TRUE(scheduler.Trigger("fail_eth", "manual").ok());
  EXPECT_EQ(scheduler.Tick(), 2);
  runner_.WaitForCalls(2);
  scheduler_.reset();
  EXPECT_EQ(runner_.ended(), 2);
}

TEST(SchedulerOptionsTest, ValidateNamesTheField) {
  SchedulerOptions options;
  EXPECT_TRUE(options.Validate().ok());
  options.max_concurrent = 0;
  const Status status = options.Validate();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "max_concurrent: must be at least 1, got 0");
}

// Scheduler files in a scratch directory, next to the training config files they name.
class SchedulerConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vigil-scheduler-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "configs");
    Write(dir_ / "configs" / "btc_direction.yaml", "name: btc_direction\ntask: direction\n");
    Write(dir_ / "eth_vol.yaml", "name: eth_vol\ntask: volatility\n");
  }
  void TearDown() override { fs::remove_all(dir_); }

  static void Write(const fs::path& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
  }
  // Writes `yaml` as sched.yaml and loads it.
  Result<SchedulerConfig> Load(const std::string& yaml) {
    Write(dir_ / "sched.yaml", yaml);
    return LoadSchedulerConfig(dir_ / "sched.yaml");
  }
  std::string Error(const std::string& yaml, StatusCode code = StatusCode::kInvalidArgument) {
    Result<SchedulerConfig> config = Load(yaml);
    if (config.ok()) return "loaded";
    EXPECT_EQ(config.status().code(), code) << config.status().ToString();
    return config.status().message();
  }
  std::string Sched() const { return (dir_ / "sched.yaml").string(); }

  fs::path dir_;
};

TEST_F(SchedulerConfigTest, LoadsAValidFile) {
  Result<SchedulerConfig> config = Load(
      "max_concurrent: 2\n"
      "jobs:\n"
      "  - name: btc\n"
      "    config: configs/btc_direction.yaml\n"
      "    cron: \"*/30 * * * *\"\n"
      "  - config: ./eth_vol.yaml\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->options.max_concurrent, 2);
  ASSERT_EQ(config->jobs.size(), 2u);
  EXPECT_EQ(config->jobs[0].name, "btc");
  EXPECT_EQ(config->jobs[0].config, dir_ / "configs" / "btc_direction.yaml");
  ASSERT_TRUE(config->jobs[0].cron.has_value());
  EXPECT_EQ(config->jobs[0].cron->expression(), "*/30 * * * *");
  EXPECT_EQ(config->jobs[1].name, "eth_vol");  // the config file's stem
  EXPECT_EQ(config->jobs[1].config, dir_ / "eth_vol.yaml");
  EXPECT_FALSE(config->jobs[1].cron.has_value());
}

TEST_F(SchedulerConfigTest, DefaultsAndAbsolutePaths) {
  const fs::path absolute = dir_ / "configs" / "btc_direction.yaml";
  Result<SchedulerConfig> config =
      Load("jobs:\n  - config: " + absolute.string() + "\n    cron: '@daily'\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->options.max_concurrent, 1);
  EXPECT_EQ(config->jobs[0].config, absolute);
  EXPECT_EQ(config->jobs[0].name, "btc_direction");
}

TEST_F(SchedulerConfigTest, RelativePathsResolveAgainstTheBaseDirectory) {
  Result<SchedulerConfig> config =
      ParseSchedulerConfig("jobs:\n  - config: ../eth_vol.yaml\n  - config: btc_direction.yaml\n",
                           "inline.yaml", dir_ / "configs");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->jobs[0].config, dir_ / "eth_vol.yaml");
  EXPECT_EQ(config->jobs[1].config, dir_ / "configs" / "btc_direction.yaml");
  EXPECT_TRUE(config->jobs[0].config.is_absolute());

  Result<SchedulerConfig> missing =
      ParseSchedulerConfig("jobs:\n  - config: eth_vol.yaml\n", "inline.yaml", dir_ / "configs");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("inline.yaml:2: jobs[0].config: "));
}

TEST_F(SchedulerConfigTest, UnknownKeys) {
  EXPECT_EQ(Error("jobs:\n"
                  "  - config: eth_vol.yaml\n"
                  "    schedule: \"0 * * * *\"\n"),
            Sched() + ":3: jobs[0].schedule: unknown key (expected one of config, cron, name)");
  EXPECT_EQ(Error("max_parallel: 2\njobs:\n  - config: eth_vol.yaml\n"),
            Sched() + ":1: max_parallel: unknown key (expected one of jobs, max_concurrent)");
}

TEST_F(SchedulerConfigTest, BadCronNamesTheLine) {
  EXPECT_EQ(Error("jobs:\n"
                  "  - name: eth\n"
                  "    config: eth_vol.yaml\n"
                  "    cron: \"61 * * * *\"\n"),
            Sched() + ":4: jobs[0].cron: minute: 61 is out of range 0-59");
  EXPECT_EQ(Error("jobs:\n"
                  "  - config: eth_vol.yaml\n"
                  "  - config: configs/btc_direction.yaml\n"
                  "    cron: \"0 0 * *\"\n"),
            Sched() +
                ":4: jobs[1].cron: expected 5 fields (minute hour day-of-month month "
                "day-of-week), got 4");
}

TEST_F(SchedulerConfigTest, DuplicateJobNames) {
  EXPECT_EQ(Error("jobs:\n"
                  "  - name: eth\n"
                  "    config: eth_vol.yaml\n"
                  "  - name: eth\n"
                  "    config: configs/btc_direction.yaml\n"),
            Sched() + ":4: jobs[1].name: duplicate job name 'eth'");
  // The default name (the stem) counts too.
  EXPECT_THAT(Error("jobs:\n"
                    "  - name: eth_vol\n"
                    "    config: configs/btc_direction.yaml\n"
                    "  - config: eth_vol.yaml\n"),
              HasSubstr(":4: jobs[1].name: duplicate job name 'eth_vol'"));
}

TEST_F(SchedulerConfigTest, MissingConfigFile) {
  const std::string message = Error(
      "jobs:\n"
      "  - config: eth_vol.yaml\n"
      "  - config: configs/sol_liq.yaml\n",
      StatusCode::kNotFound);
  EXPECT_EQ(message, Sched() + ":3: jobs[1].config: " +
                         (dir_ / "configs" / "sol_liq.yaml").string() + " does not exist");
  EXPECT_THAT(Error("jobs:\n  - config: configs\n"), HasSubstr("is not a regular file"));
  EXPECT_THAT(Error("jobs:\n  - name: x\n    cron: '@daily'\n"),
              HasSubstr(":2: jobs[0].config: required"));
}

TEST_F(SchedulerConfigTest, NoJobs) {
  EXPECT_EQ(Error("max_concurrent: 2\njobs: []\n"),
            Sched() + ":2: jobs: expected a non-empty list of jobs");
  EXPECT_THAT(Error("max_concurrent: 2\n"), HasSubstr("jobs: expected a non-empty list of jobs"));
  EXPECT_THAT(Error("jobs:\n"), HasSubstr("jobs: expected a non-empty list of jobs"));
  EXPECT_THAT(Error(""), HasSubstr("expected a map of keys"));
}

TEST_F(SchedulerConfigTest, MaxConcurrentMustBePositive) {
  EXPECT_EQ(Error("jobs:\n  - config: eth_vol.yaml\nmax_concurrent: 0\n"),
            Sched() + ":3: max_concurrent: must be at least 1, got 0");
  EXPECT_EQ(Error("max_concurrent: two\njobs:\n  - config: eth_vol.yaml\n"),
            Sched() + ":1: max_concurrent: 'two' is not an integer");
}

TEST_F(SchedulerConfigTest, YamlSyntaxAndMissingFile) {
  EXPECT_THAT(Error("jobs:\n  - config: [eth_vol.yaml\n", StatusCode::kInvalidArgument),
              HasSubstr(Sched() + ":"));
  Result<SchedulerConfig> missing = LoadSchedulerConfig(dir_ / "nope.yaml");
  EXPECT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("nope.yaml"));
}

}  // namespace
}  // namespace vigil
