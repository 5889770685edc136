// Walk-forward retraining (walk_forward.h): the windows, their purged training rows, the
// ensemble of the latest models and the out-of-sample signals they give.
#include "vigil/backtest/walk_forward.h"

#include <chrono>
#include <cmath>
#include <memory>

#include "vigil/features/feature_store.h"
#include "vigil/pipeline/training_job.h"
#include "walk_forward_internal.h"

namespace vigil {
namespace backtest_internal {

Result<FeatureRows> ComputeFeatureRows(const TrainingConfig& config, Store& store,
                                       const std::string& instrument) {
  VIGIL_ASSIGN_OR_RETURN(StoredFeatures computed,
                         ComputeStoredFeatures(store, instrument, config.features, config.timeframe,
                                               config.from, config.to));
  const Frame& table = computed.table;
  const std::span<const int64_t> ts = table.timestamps();
  FeatureRows rows;
  rows.x.columns = config.features.Columns();
  const size_t cols = rows.x.cols();
  std::vector<double> row_values(cols);
  for (int64_t row = 0; row < table.rows(); ++row) {
    // Still warming up: no prediction, as no training row.
    if (!ReadDefinedFeatureRow(table, row, row_values)) continue;
    rows.ts.push_back(ts[row]);
    rows.x.values.insert(rows.x.values.end(), row_values.begin(), row_values.end());
  }
  rows.x.rows = static_cast<int64_t>(rows.ts.size());
  if (ts.size() >= 2) {
    VIGIL_ASSIGN_OR_RETURN(rows.bar_ns, InferBarSpacing(ts));
  }
  return rows;
}

Result<std::vector<double>> PredictSignal(const Model& model, const FeatureMatrix& x) {
  if (x.rows == 0) return std::vector<double>();
  if (const auto* classifier = dynamic_cast<const Classifier*>(&model)) {
    if (classifier->num_classes() != 2)
      return InvalidArgument(
          "model: a trading signal needs a binary classifier or a regressor, not " +
          std::to_string(classifier->num_classes()) + " classes");
    VIGIL_ASSIGN_OR_RETURN(ProbabilityMatrix p, classifier->PredictProba(x));
    std::vector<double> out(p.rows());
    for (int64_t r = 0; r < p.rows(); ++r) out[r] = p.at(r, 1);
    return out;
  }
  if (const auto* regressor = dynamic_cast<const Regressor*>(&model)) return regressor->Predict(x);
  return InvalidArgument(
      "model: a trading signal needs a binary classifier or a regressor, not a " +
      std::string(TaskName(model.task())) + " model");
}

}  // namespace backtest_internal

namespace {

using backtest_internal::FeatureRows;

// The rows of `rows` whose close falls in [from, to).
std::pair<size_t, size_t> RowsClosingIn(const FeatureRows& rows, int64_t from, int64_t to) {
  const auto closes_before = [&rows](int64_t t) {
    return static_cast<size_t>(std::lower_bound(rows.ts.begin(), rows.ts.end(), t - rows.bar_ns) -
                               rows.ts.begin());
  };
  return {closes_before(from), closes_before(to)};
}

FeatureMatrix Slice(const FeatureMatrix& x, size_t begin, size_t end) {
  FeatureMatrix out;
  out.columns = x.columns;
  out.rows = static_cast<int64_t>(end - begin);
  out.values.assign(x.values.begin() + static_cast<int64_t>(begin * x.cols()),
                    x.values.begin() + static_cast<int64_t>(end * x.cols()));
  return out;
}

// The labelled rows window `trade_from` may train on: label known by then, and (sliding)
// started within the last train_ns.
std::vector<int64_t> TrainingRows(const TrainingSet& set, int64_t trade_from, int64_t bar_ns,
                                  const WalkForwardBacktestOptions& options) {
  std::vector<int64_t> rows;
  const int64_t earliest = options.expanding ? INT64_MIN : trade_from - options.train_ns;
  for (int64_t r = 0; r < set.rows(); ++r) {
    if (set.windows.start_ts[r] < earliest) continue;
    if (set.windows.start_ts[r] + bar_ns > trade_from) break;  // rows are in time order
    if (set.windows.end_ts[r] + bar_ns <= trade_from) rows.push_back(r);
  }
  return rows;
}

// Why a window cannot be fitted, or "" when it can.
std::string UnfittableReason(const TrainingConfig& config, const TrainingSet& set,
                             const std::vector<int64_t>& rows, int min_rows) {
  if (static_cast<int>(rows.size()) < min_rows)
    return std::to_string(rows.size()) + " labelled rows, fewer than min_train_rows " +
           std::to_string(min_rows);
  if (config.task != Task::kClassification) return "";
  const double first = set.labels[rows.front()];
  for (int64_t r : rows)
    if (set.labels[r] != first) return "";
  return "every training label is the same class";
}

struct Member {
  std::shared_ptr<const Model> model;
  int window = 0;
};

class WalkForward {
 public:
  WalkForward(const TrainingConfig& config, const WalkForwardBacktestOptions& options,
              const TrainingSet& set, std::vector<FeatureRows> rows)
      : config_(config), options_(options), set_(set), rows_(std::move(rows)) {}

  Result<WalkForwardRun> Run() {
    WalkForwardRun run;
    run.model_kind = config_.model_kind;
    for (size_t i = 0; i < rows_.size(); ++i) run.signals.push_back(EmptySignals(i));
    const int64_t bar_ns = rows_.front().bar_ns;
    int64_t origin = INT64_MAX, last = INT64_MIN;
    for (const FeatureRows& r : rows_) {
      if (r.ts.empty()) continue;
      origin = std::min(origin, r.ts.front() + r.bar_ns);
      last = std::max(last, r.ts.back() + r.bar_ns);
    }
    if (origin == INT64_MAX || bar_ns <= 0)
      return FailedPrecondition("walk-forward: no feature rows to trade on");
    const auto start = std::chrono::steady_clock::now();
    for (int64_t trade_from = origin + options_.train_ns; trade_from <= last;
         trade_from += options_.step_ns) {
      const int k = static_cast<int>(run.windows.size());
      WalkForwardWindow window{
          Timestamp(options_.expanding ? origin : trade_from - options_.train_ns),
          Timestamp(trade_from), Timestamp(trade_from + options_.step_ns)};
      VIGIL_RETURN_IF_ERROR(
          FitWindow(k, bar_ns, window).WithContext("window " + std::to_string(k)));
      VIGIL_RETURN_IF_ERROR(PredictWindow(k, window, run.signals));
      run.windows.push_back(std::move(window));
    }
    run.fit_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (run.windows.empty())
      return FailedPrecondition("walk-forward: the data (" + Timestamp(origin).ToIso() + " .. " +
                                Timestamp(last).ToIso() + ") is shorter than one training window");
    return run;
  }

  const std::vector<Member>& fitted() const { return fitted_; }

 private:
  ModelSignals EmptySignals(size_t i) const {
    ModelSignals signals;
    signals.instrument = config_.instruments[i];
    return signals;
  }

  Status FitWindow(int k, int64_t bar_ns, WalkForwardWindow& window) {
    const std::vector<int64_t> rows =
        TrainingRows(set_, window.trade_from.nanos(), bar_ns, options_);
    window.train_rows = static_cast<int64_t>(rows.size());
    window.note = UnfittableReason(config_, set_, rows, options_.min_train_rows);
    if (!window.note.empty()) return Status::Ok();
    VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, FitModel(config_, set_, rows));
    window.fitted = true;
    fitted_.push_back({std::shared_ptr<const Model>(std::move(model)), k});
    return Status::Ok();
  }

  // The members of window k's ensemble: the models of windows k - ensemble + 1 .. k.
  std::vector<const Model*> Members(int k) const {
    std::vector<const Model*> members;
    for (const Member& member : fitted_)
      if (member.window <= k && member.window > k - options_.ensemble)
        members.push_back(member.model.get());
    return members;
  }

  Status PredictWindow(int k, WalkForwardWindow& window, std::vector<ModelSignals>& signals) {
    const std::vector<const Model*> members = Members(k);
    for (size_t i = 0; i < rows_.size(); ++i) {
      const auto [begin, end] =
          RowsClosingIn(rows_[i], window.trade_from.nanos(), window.trade_to.nanos());
      if (begin == end) continue;
      const FeatureMatrix x = Slice(rows_[i].x, begin, end);
      std::vector<std::vector<double>> outputs;
      for (const Model* model : members) {
        VIGIL_ASSIGN_OR_RETURN(std::vector<double> values,
                               backtest_internal::PredictSignal(*model, x));
        outputs.push_back(std::move(values));
      }
      for (size_t r = 0; r < end - begin; ++r) {
        signals[i].time.emplace_back(rows_[i].ts[begin + r]);
        double sum = 0.0, squares = 0.0;
        for (const std::vector<double>& out : outputs) sum += out[r];
        const double n = static_cast<double>(outputs.size());
        const double mean = outputs.empty() ? std::nan("") : sum / n;
        for (const std::vector<double>& out : outputs) squares += (out[r] - mean) * (out[r] - mean);
        signals[i].value.push_back(mean);
        signals[i].disagreement.push_back(n > 1 ? std::sqrt(squares / (n - 1)) : 0.0);
        signals[i].window.push_back(outputs.empty() ? -1 : k);
      }
      window.predicted_rows += static_cast<int64_t>(end - begin);
    }
    return Status::Ok();
  }

  const TrainingConfig& config_;
  const WalkForwardBacktestOptions& options_;
  const TrainingSet& set_;
  std::vector<FeatureRows> rows_;
  std::vector<Member> fitted_;
};

}  // namespace

Status WalkForwardBacktestOptions::Validate() const {
  if (train_ns <= 0) return InvalidArgument("train_days: must be > 0");
  if (step_ns <= 0) return InvalidArgument("step_days: must be > 0");
  if (ensemble < 1 || ensemble > 10) return InvalidArgument("ensemble: must be in [1, 10]");
  if (min_train_rows < 2) return InvalidArgument("min_train_rows: must be >= 2");
  if (reuse && cache_dir.empty()) return InvalidArgument("reuse: needs a cache directory");
  return Status::Ok();
}

Result<WalkForwardRun> RunWalkForward(const TrainingConfig& config, Store& store,
                                      const WalkForwardBacktestOptions& options) {
  VIGIL_RETURN_IF_ERROR(options.Validate());
  VIGIL_RETURN_IF_ERROR(config.Validate());
  if (config.multi_horizon())
    return InvalidArgument("label.horizons: walk-forward trading needs one horizon");
  if (config.task != Task::kClassification && config.task != Task::kRegression)
    return InvalidArgument("task: walk-forward trading needs a classifier or a regressor");
  VIGIL_ASSIGN_OR_RETURN(TrainingSet set, BuildTrainingSet(config, store));
  std::vector<FeatureRows> rows;
  for (const std::string& instrument : config.instruments) {
    Result<FeatureRows> computed = backtest_internal::ComputeFeatureRows(config, store, instrument);
    if (!computed.ok()) return computed.status().WithContext(instrument);
    rows.push_back(std::move(*computed));
  }
  const nlohmann::json identity = backtest_internal::RunIdentity(config, options, set);
  if (options.reuse) return backtest_internal::LoadCachedRun(options.cache_dir, identity);
  WalkForward walk(config, options, set, std::move(rows));
  VIGIL_ASSIGN_OR_RETURN(WalkForwardRun run, walk.Run());
  if (!options.cache_dir.empty()) {
    std::vector<std::pair<int, const Model*>> models;
    for (const Member& member : walk.fitted())
      models.push_back({member.window, member.model.get()});
    VIGIL_RETURN_IF_ERROR(backtest_internal::SaveRun(options.cache_dir, identity, run, models));
  }
  return run;
}

}  // namespace vigil
