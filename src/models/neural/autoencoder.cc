// The autoencoder's LibTorch half: the network, training, scoring and the parameter file.
// The only translation unit of Vigil that includes LibTorch; every LibTorch call is inside
// a try block here, so no exception crosses the AnomalyDetector interface.
#include "vigil/models/neural/autoencoder.h"

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <torch/optim/adam.h>
#include <torch/serialize.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <numeric>
#include <span>
#include <sstream>
#include <string>
#include <utility>

#include "models/anomaly/parallel.h"
#include "models/builtin_kinds.h"
#include "vigil/core/rng.h"
#include "vigil/core/text_file.h"

namespace vigil {

struct Autoencoder::Network {
  // weight (out x in), bias (out) for each layer, in order: what autoencoder.pt holds.
  std::vector<torch::Tensor> parameters;
  AutoencoderOptions::Activation activation = AutoencoderOptions::Activation::kRelu;
  int code_layer = 0;  // the last encoder layer, which stays linear

  int layers() const { return static_cast<int>(parameters.size() / 2); }

  torch::Tensor Forward(torch::Tensor x) const {
    for (int layer = 0; layer < layers(); ++layer) {
      x = torch::addmm(parameters[2 * layer + 1], x, parameters[2 * layer].t());
      if (layer == code_layer || layer == layers() - 1) continue;
      x = activation == AutoencoderOptions::Activation::kTanh ? torch::tanh(x) : torch::relu(x);
    }
    return x;
  }
};

namespace {

using Activation = AutoencoderOptions::Activation;

// Standardized values are clamped to this many sds: a row that far out is maximally
// anomalous anyway, and the clamp keeps float32 arithmetic (and squared errors) finite.
constexpr double kMaxStandardized = 1e6;

// c10::Error's what() carries a C++ backtrace; users need only the message.
std::string TorchMessage(const std::exception& e) {
  if (const auto* torch_error = dynamic_cast<const c10::Error*>(&e)) {
    return torch_error->what_without_backtrace();
  }
  return e.what();
}

void UseTorchThreads(int threads) {
  const int resolved = models_internal::ResolveJobs(threads);
  if (at::get_num_threads() != resolved) at::set_num_threads(resolved);
}

// A float32 tensor of `shape` uniform in [-bound, bound], drawn from `rng`.
torch::Tensor UniformTensor(std::vector<int64_t> shape, double bound, Rng& rng) {
  const int64_t count = std::accumulate(shape.begin(), shape.end(), int64_t{1},
                                        [](int64_t a, int64_t b) { return a * b; });
  std::vector<float> values(count);
  for (float& value : values) value = static_cast<float>(rng.Uniform(-bound, bound));
  return torch::from_blob(values.data(), shape, torch::kFloat32).clone();
}

// PyTorch's nn.Linear default (He et al. 2015 uniform with a = sqrt(5)): weight and bias
// uniform in +-1/sqrt(fan_in).
std::vector<torch::Tensor> InitialParameters(const std::vector<int>& widths, Rng rng) {
  std::vector<torch::Tensor> parameters;
  for (size_t layer = 0; layer + 1 < widths.size(); ++layer) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(widths[layer]));
    parameters.push_back(UniformTensor({widths[layer + 1], widths[layer]}, bound, rng));
    parameters.push_back(UniformTensor({widths[layer + 1]}, bound, rng));
  }
  return parameters;
}

// FNV-1a over every parameter's bytes, chained: ties autoencoder.pt to autoencoder.json.
uint64_t ParameterChecksum(const std::vector<torch::Tensor>& parameters) {
  uint64_t checksum = 0;
  for (const torch::Tensor& parameter : parameters) {
    const torch::Tensor flat = parameter.contiguous();
    const std::string_view bytes(static_cast<const char*>(flat.data_ptr()), flat.nbytes());
    checksum = SplitMix64(checksum ^ HashName(bytes));
  }
  return checksum;
}

struct Standardization {
  const std::vector<int>& features;
  const std::vector<double>& means;
  const std::vector<double>& sds;

  // Rows [first, first + rows) of x, network features only, into out (rows x features).
  void Rows(const FeatureMatrix& x, int64_t first, int64_t rows, float* out) const {
    for (int64_t row = first; row < first + rows; ++row) {
      for (int col : features) {
        const double z = (x.at(row, col) - means[col]) / sds[col];
        *out++ = static_cast<float>(std::clamp(z, -kMaxStandardized, kMaxStandardized));
      }
    }
  }
};

// Sum of squared errors of one row; errors[j] receives feature j's term.
double SquaredErrors(const float* input, const float* output, size_t width, double* errors) {
  double sum = 0.0;
  for (size_t j = 0; j < width; ++j) {
    const double diff = static_cast<double>(output[j]) - static_cast<double>(input[j]);
    errors[j] = diff * diff;
    sum += errors[j];
  }
  return sum;
}

struct RowSplit {
  std::vector<int64_t> train;
  std::vector<int64_t> validation;  // empty: no early stopping
};

RowSplit SplitRows(int64_t rows, double validation_fraction, Rng rng) {
  RowSplit split;
  split.train.resize(rows);
  std::iota(split.train.begin(), split.train.end(), int64_t{0});
  if (validation_fraction <= 0) return split;
  const int64_t held =
      std::max<int64_t>(1, static_cast<int64_t>(std::floor(validation_fraction * rows)));
  std::shuffle(split.train.begin(), split.train.end(), rng.engine());
  split.validation.assign(split.train.begin(), split.train.begin() + held);
  split.train.erase(split.train.begin(), split.train.begin() + held);
  std::sort(split.train.begin(), split.train.end());
  std::sort(split.validation.begin(), split.validation.end());
  return split;
}

// A view of `indices` (which must outlive it) as an int64 tensor.
torch::Tensor IndexTensor(std::vector<int64_t>& indices) {
  if (indices.empty()) return torch::empty({0}, torch::kInt64);
  return torch::from_blob(indices.data(), {static_cast<int64_t>(indices.size())}, torch::kInt64);
}

struct TrainingRun {
  int epochs_run = 0;
  int best_epoch = 0;
};

class Trainer {
 public:
  Trainer(std::vector<torch::Tensor>& parameters, const AutoencoderOptions& options)
      : parameters_(parameters),
        options_(options),
        adam_(parameters,
              torch::optim::AdamOptions(options.learning_rate).weight_decay(options.weight_decay)) {
  }

  // Minibatch Adam over `train`; early stopping on `validation` when it has rows.
  template <typename Forward>
  TrainingRun Run(const torch::Tensor& train, const torch::Tensor& validation, Forward forward,
                  Rng shuffle_rng) {
    std::vector<int64_t> order(train.size(0));
    std::iota(order.begin(), order.end(), int64_t{0});
    const bool early_stopping = validation.size(0) > 0;
    TrainingRun run;
    double best_loss = std::numeric_limits<double>::infinity();
    int epochs_without_gain = 0;
    for (int epoch = 1; epoch <= options_.epochs; ++epoch) {
      std::shuffle(order.begin(), order.end(), shuffle_rng.engine());
      Epoch(train, IndexTensor(order), forward);
      run.epochs_run = epoch;
      if (!early_stopping) continue;
      const double loss = Loss(validation, forward);
      if (loss < best_loss) {
        best_loss = loss;
        run.best_epoch = epoch;
        Snapshot();
        epochs_without_gain = 0;
      } else if (++epochs_without_gain >= options_.patience) {
        break;
      }
    }
    if (early_stopping && !best_.empty()) RestoreSnapshot();
    if (!early_stopping || best_.empty()) run.best_epoch = run.epochs_run;
    return run;
  }

 private:
  template <typename Forward>
  void Epoch(const torch::Tensor& train, const torch::Tensor& order, Forward& forward) {
    const int64_t rows = train.size(0);
    for (int64_t first = 0; first < rows; first += options_.batch_size) {
      const int64_t last = std::min<int64_t>(rows, first + options_.batch_size);
      const torch::Tensor batch = train.index_select(0, order.slice(0, first, last));
      adam_.zero_grad();
      torch::Tensor loss = torch::mse_loss(forward(batch), batch);
      loss.backward();
      adam_.step();
    }
  }

  template <typename Forward>
  double Loss(const torch::Tensor& rows, Forward& forward) {
    torch::NoGradGuard no_grad;
    const torch::Tensor loss = torch::mse_loss(forward(rows), rows);
    return loss.item<double>();
  }

  void Snapshot() {
    best_.clear();
    for (const torch::Tensor& p : parameters_) best_.push_back(p.detach().clone());
  }

  void RestoreSnapshot() {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < parameters_.size(); ++i) parameters_[i].copy_(best_[i]);
  }

  std::vector<torch::Tensor>& parameters_;
  const AutoencoderOptions& options_;
  torch::optim::Adam adam_;
  std::vector<torch::Tensor> best_;  // parameters of the best validation epoch
};

double MeanOf(const std::vector<double>& values, const std::vector<int64_t>& rows) {
  double sum = 0.0;
  for (int64_t row : rows) sum += values[row];
  return sum / static_cast<double>(rows.size());
}

// Reads a weight file; any failure (missing, unreadable) is DataError naming it.
Result<std::string> ReadWeightFile(const std::string& path) {
  Result<std::string> text = ReadFileToString(path);
  if (!text.ok()) return DataError(path + ": " + text.status().message());
  return text;
}

}  // namespace

Autoencoder::Autoencoder(AutoencoderOptions options) : options_(std::move(options)) {}
Autoencoder::~Autoencoder() = default;
Autoencoder::Autoencoder(Autoencoder&&) noexcept = default;
Autoencoder& Autoencoder::operator=(Autoencoder&&) noexcept = default;

template <typename OnBatch>
Status Autoencoder::Reconstruct(const FeatureMatrix& x, OnBatch&& on_batch) const {
  const int64_t width = static_cast<int64_t>(network_features_.size());
  const Standardization standardize{network_features_, means_, sds_};
  std::vector<float> input(static_cast<size_t>(std::min(x.rows, kScoreBatchRows) * width));
  try {
    UseTorchThreads(options_.threads);
    torch::NoGradGuard no_grad;
    for (int64_t first = 0; first < x.rows; first += kScoreBatchRows) {
      const int64_t rows = std::min(kScoreBatchRows, x.rows - first);
      standardize.Rows(x, first, rows, input.data());
      const torch::Tensor batch = torch::from_blob(input.data(), {rows, width}, torch::kFloat32);
      const torch::Tensor output = network_->Forward(batch).contiguous();
      on_batch(first, rows, input.data(), output.data_ptr<float>());
    }
  } catch (const std::exception& e) {
    return Internal("model 'autoencoder': scoring failed: " + TorchMessage(e));
  }
  return Status::Ok();
}

Result<std::vector<double>> Autoencoder::RawScores(const FeatureMatrix& x) const {
  const size_t width = network_features_.size();
  std::vector<double> raw(x.rows);
  std::vector<double> errors(width);
  VIGIL_RETURN_IF_ERROR(Reconstruct(x, [&](int64_t first, int64_t rows, const float* input,
                                           const float* output) {
    for (int64_t r = 0; r < rows; ++r) {
      raw[first + r] = SquaredErrors(input + r * width, output + r * width, width, errors.data()) /
                       static_cast<double>(width);
    }
  }));
  return raw;
}

Status Autoencoder::CheckInput(const FeatureMatrix& x) const {
  if (!fitted()) return FailedPrecondition("model 'autoencoder': not fitted");
  VIGIL_RETURN_IF_ERROR(models_internal::CheckColumns(kKind, feature_names_, x));
  return x.Validate(/*allow_nan=*/false).WithContext("model 'autoencoder'");
}

Status Autoencoder::Fit(const FeatureMatrix& x) {
  VIGIL_RETURN_IF_ERROR(options_.Validate());
  VIGIL_RETURN_IF_ERROR(x.Validate(/*allow_nan=*/false).WithContext("model 'autoencoder'"));
  if (x.rows < 2) return InvalidArgument("model 'autoencoder': need at least 2 rows to fit");
  Autoencoder fitted(options_);
  fitted.feature_names_ = x.columns;
  fitted.FitStandardization(x);
  if (fitted.network_features_.empty()) {
    return InvalidArgument("model 'autoencoder': every feature is constant, nothing to learn");
  }
  const int width = static_cast<int>(fitted.network_features_.size());
  fitted.layer_widths_ = fitted.LayerWidthsFor(width);
  const Rng master(options_.seed);
  RowSplit split = SplitRows(x.rows, options_.validation_fraction, master.Derive("validation"));
  try {
    UseTorchThreads(options_.threads);
    auto network = std::make_unique<Network>();
    network->parameters = InitialParameters(fitted.layer_widths_, master.Derive("init"));
    network->activation = options_.activation;
    network->code_layer = static_cast<int>(options_.EncoderWidths(width).size()) - 1;
    for (torch::Tensor& p : network->parameters) p.set_requires_grad(true);

    torch::Tensor all = torch::empty({x.rows, width}, torch::kFloat32);
    Standardization{fitted.network_features_, fitted.means_, fitted.sds_}.Rows(
        x, 0, x.rows, all.data_ptr<float>());
    const torch::Tensor train = all.index_select(0, IndexTensor(split.train));
    const torch::Tensor validation = all.index_select(0, IndexTensor(split.validation));
    Trainer trainer(network->parameters, options_);
    const TrainingRun run = trainer.Run(
        train, validation, [&](const torch::Tensor& rows) { return network->Forward(rows); },
        master.Derive("shuffle"));
    for (torch::Tensor& p : network->parameters) p.set_requires_grad(false);
    fitted.epochs_run_ = run.epochs_run;
    fitted.best_epoch_ = run.best_epoch;
    fitted.network_ = std::move(network);
  } catch (const std::exception& e) {
    return Internal("model 'autoencoder': training failed: " + TorchMessage(e));
  }
  VIGIL_RETURN_IF_ERROR(fitted.Calibrate(x, split.train, split.validation));
  *this = std::move(fitted);
  return Status::Ok();
}

void Autoencoder::FitStandardization(const FeatureMatrix& x) {
  means_.assign(x.cols(), 0.0);
  sds_.assign(x.cols(), 1.0);
  network_features_.clear();
  for (size_t col = 0; col < x.cols(); ++col) {
    double sum = 0.0;
    double lo = x.at(0, col);
    double hi = lo;
    for (int64_t row = 0; row < x.rows; ++row) {
      sum += x.at(row, col);
      lo = std::min(lo, x.at(row, col));
      hi = std::max(hi, x.at(row, col));
    }
    means_[col] = sum / static_cast<double>(x.rows);
    if (lo == hi) continue;  // constant: sd stays 1 and the network never sees it
    double squares = 0.0;
    for (int64_t row = 0; row < x.rows; ++row) {
      const double deviation = x.at(row, col) - means_[col];
      squares += deviation * deviation;
    }
    sds_[col] = std::sqrt(squares / static_cast<double>(x.rows));
    network_features_.push_back(static_cast<int>(col));
  }
}

Status Autoencoder::Calibrate(const FeatureMatrix& x, const std::vector<int64_t>& train_rows,
                              const std::vector<int64_t>& validation_rows) {
  VIGIL_ASSIGN_OR_RETURN(std::vector<double> raw, RawScores(x));
  if (!std::all_of(raw.begin(), raw.end(), [](double v) { return std::isfinite(v); })) {
    return InvalidArgument(
        "model 'autoencoder': training diverged (non-finite reconstruction error); lower "
        "learning_rate");
  }
  train_loss_ = MeanOf(raw, train_rows);
  validation_loss_.reset();
  if (!validation_rows.empty()) validation_loss_ = MeanOf(raw, validation_rows);
  VIGIL_ASSIGN_OR_RETURN(calibration_, ScoreCalibration::Fit(raw, options_.contamination));
  return Status::Ok();
}

Result<AnomalyScores> Autoencoder::Score(const FeatureMatrix& x) const {
  VIGIL_RETURN_IF_ERROR(CheckInput(x));
  const size_t width = network_features_.size();
  AnomalyScores scores;
  scores.raw.resize(x.rows);
  std::vector<double> shares(static_cast<size_t>(x.rows) * x.cols(), 0.0);
  std::vector<double> errors(width);
  VIGIL_RETURN_IF_ERROR(
      Reconstruct(x, [&](int64_t first, int64_t rows, const float* input, const float* output) {
        for (int64_t r = 0; r < rows; ++r) {
          const double raw =
              SquaredErrors(input + r * width, output + r * width, width, errors.data()) /
              static_cast<double>(width);
          scores.raw[first + r] = raw;
          if (calibration_.Flag(raw)) ScatterShares(errors, &shares[(first + r) * x.cols()]);
        }
      }));
  ApplyCalibration(calibration_, static_cast<int64_t>(x.cols()), scores);
  scores.contributions = std::move(shares);
  return scores;
}

Result<std::vector<double>> Autoencoder::Contributions(const FeatureMatrix& x) const {
  VIGIL_RETURN_IF_ERROR(CheckInput(x));
  const size_t width = network_features_.size();
  std::vector<double> shares(static_cast<size_t>(x.rows) * x.cols(), 0.0);
  std::vector<double> errors(width);
  VIGIL_RETURN_IF_ERROR(
      Reconstruct(x, [&](int64_t first, int64_t rows, const float* input, const float* output) {
        for (int64_t r = 0; r < rows; ++r) {
          SquaredErrors(input + r * width, output + r * width, width, errors.data());
          ScatterShares(errors, &shares[(first + r) * x.cols()]);
        }
      }));
  return shares;
}

void Autoencoder::ScatterShares(const std::vector<double>& errors, double* row_shares) const {
  for (size_t j = 0; j < network_features_.size(); ++j) {
    row_shares[network_features_[j]] = errors[j];
  }
  NormalizeShares(std::span<double>(row_shares, feature_names_.size()));
}

Status Autoencoder::SaveWeights(const std::filesystem::path& dir) const {
  if (!fitted()) return FailedPrecondition("model 'autoencoder': not fitted, nothing to save");
  std::ostringstream parameters;
  uint64_t checksum = 0;
  try {
    torch::save(network_->parameters, parameters);
    checksum = ParameterChecksum(network_->parameters);
  } catch (const std::exception& e) {
    return Internal("model 'autoencoder': saving parameters failed: " + TorchMessage(e));
  }
  VIGIL_RETURN_IF_ERROR(WriteFileAtomically((dir / kParametersFile).string(), parameters.str()));
  return WriteFileAtomically((dir / kStateFile).string(), StateJson(checksum).dump(2) + "\n");
}

Status Autoencoder::LoadWeights(const std::filesystem::path& dir) {
  VIGIL_RETURN_IF_ERROR(options_.Validate());
  const std::string state_path = (dir / kStateFile).string();
  const std::string parameters_path = (dir / kParametersFile).string();
  VIGIL_ASSIGN_OR_RETURN(std::string state_text, ReadWeightFile(state_path));
  Autoencoder loaded(options_);
  nlohmann::json state;
  try {
    state = nlohmann::json::parse(state_text);
  } catch (const std::exception& e) {
    return DataError(state_path + ": " + e.what());
  }
  VIGIL_RETURN_IF_ERROR(loaded.RestoreState(state, state_path));
  uint64_t checksum = 0;
  try {
    checksum = state.at("parameter_checksum").get<uint64_t>();
  } catch (const std::exception& e) {
    return DataError(state_path + ": " + e.what());
  }
  VIGIL_ASSIGN_OR_RETURN(std::string parameters_bytes, ReadWeightFile(parameters_path));
  VIGIL_RETURN_IF_ERROR(loaded.RestoreNetwork(parameters_bytes, parameters_path, checksum));
  *this = std::move(loaded);
  return Status::Ok();
}

Status Autoencoder::RestoreNetwork(const std::string& bytes, const std::string& path,
                                   uint64_t expected_checksum) {
  auto network = std::make_unique<Network>();
  network->activation = options_.activation;
  network->code_layer =
      static_cast<int>(options_.EncoderWidths(static_cast<int>(network_features_.size())).size()) -
      1;
  try {
    std::istringstream stream(bytes);
    torch::load(network->parameters, stream);
    const size_t layers = layer_widths_.size() - 1;
    if (network->parameters.size() != 2 * layers) {
      return DataError(path + ": " + std::to_string(network->parameters.size()) +
                       " tensors, the architecture needs " + std::to_string(2 * layers));
    }
    for (size_t layer = 0; layer < layers; ++layer) {
      torch::Tensor& weight = network->parameters[2 * layer];
      torch::Tensor& bias = network->parameters[2 * layer + 1];
      const bool shapes_match =
          weight.sizes() == torch::IntArrayRef({int64_t{layer_widths_[layer + 1]},
                                                int64_t{layer_widths_[layer]}}) &&
          bias.sizes() == torch::IntArrayRef({int64_t{layer_widths_[layer + 1]}});
      if (!shapes_match || weight.scalar_type() != torch::kFloat32 ||
          bias.scalar_type() != torch::kFloat32) {
        return DataError(path + ": layer " + std::to_string(layer) +
                         ": shape or type differs from the architecture");
      }
      if (!torch::isfinite(weight).all().item<bool>() ||
          !torch::isfinite(bias).all().item<bool>()) {
        return DataError(path + ": layer " + std::to_string(layer) + ": non-finite parameter");
      }
      weight = weight.contiguous().set_requires_grad(false);
      bias = bias.contiguous().set_requires_grad(false);
    }
    if (ParameterChecksum(network->parameters) != expected_checksum) {
      return DataError(path + ": parameters do not match the checksum in " +
                       std::string(kStateFile));
    }
  } catch (const std::exception& e) {
    return DataError(path + ": " + TorchMessage(e));
  }
  network_ = std::move(network);
  return Status::Ok();
}

}  // namespace vigil
