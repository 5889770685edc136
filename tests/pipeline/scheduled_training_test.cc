// A scheduled job retrains: the scheduler, driven by an injected clock, runs the real
// training job when the cron schedule comes due, and not before.
#include <gtest/gtest.h>

#include <fstream>

#include "pipeline/pipeline_fixture.h"
#include "vigil/core/clock.h"
#include "vigil/pipeline/scheduler.h"
#include "vigil/pipeline/training_job.h"

namespace vigil {
namespace {

class ScheduledTrainingTest : public testing_util::PipelineTest {};

TEST_F(ScheduledTrainingTest, CronScheduleRetrainsWithAnInjectedClock) {
  StoreSimulation(1, 2);
  std::string yaml = DirectionYaml();
  yaml.replace(yaml.find("test: 12h"), 9, "test: 6h\n  max_folds: 1");
  std::ofstream(home_ / "btc.yaml") << yaml;
  std::ofstream(home_ / "scheduler.yaml")
      << "jobs:\n  - name: btc_6h\n    config: btc.yaml\n    cron: \"0 */6 * * *\"\n";
  auto config = LoadSchedulerConfig(home_ / "scheduler.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();

  // 2030-01-01T05:00:00Z: the next run is due at 06:00.
  ManualClock clock(Timestamp::FromSeconds(1'893'474'000));
  const JobRunner runner = [&](const ScheduledJob& job, const std::string& reason) {
    VIGIL_ASSIGN_OR_RETURN(TrainingConfig training, LoadTrainingConfig(job.config));
    TrainingJobOptions options;
    options.clock = &clock;
    options.trigger_reason = reason;
    return RunTrainingJob(training, *store_, *registry_, options).status();
  };
  Scheduler scheduler(*config, clock, runner);
  EXPECT_EQ(scheduler.NextDue("btc_6h"), Timestamp::FromSeconds(1'893'474'000 + 3600));

  clock.Advance(59 * kNanosPerMinute);  // 05:59
  EXPECT_EQ(scheduler.Tick(), 0);
  scheduler.WaitIdle();
  EXPECT_TRUE(registry_->Versions("btc_direction")->empty());

  clock.Advance(kNanosPerMinute);  // 06:00
  EXPECT_EQ(scheduler.Tick(), 1);
  scheduler.WaitIdle();
  EXPECT_EQ(registry_->Versions("btc_direction")->size(), 1u);

  clock.Advance(6 * kNanosPerHour);  // 12:00: retrains
  EXPECT_EQ(scheduler.Tick(), 1);
  scheduler.WaitIdle();
  EXPECT_EQ(*registry_->Versions("btc_direction"), (std::vector<int64_t>{1, 2}));
  auto retrained = registry_->Show("btc_direction@2");
  ASSERT_TRUE(retrained.ok());
  EXPECT_EQ(retrained->parent_version, 1);
  EXPECT_EQ(retrained->created_at, clock.Now());

  // The drift hook queues a run outside the schedule, with its reason recorded.
  ASSERT_TRUE(scheduler.Trigger("btc_6h", "drift: psi(rsi_14)=0.31").ok());
  EXPECT_EQ(scheduler.Tick(), 1);
  scheduler.WaitIdle();
  auto jobs = store_->ListTrainingJobs("btc_direction", 0);
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 3u);
  EXPECT_EQ((*jobs)[0].trigger_reason, "drift: psi(rsi_14)=0.31");
  EXPECT_EQ((*jobs)[1].trigger_reason, "schedule: 0 */6 * * *");
  for (const TrainingJobRow& job : *jobs) EXPECT_EQ(job.status, "succeeded") << job.error;
  EXPECT_EQ(scheduler.stats().succeeded, 3);
}

}  // namespace
}  // namespace vigil
