// The autoencoder's LibTorch-free half: configuration, the JSON state file, Describe and
// the kind registration. Kept apart from autoencoder.cc so that editing it does not pay for
// LibTorch's headers.
#include <algorithm>
#include <cmath>
#include <exception>
#include <functional>
#include <limits>
#include <mutex>
#include <string>
#include <utility>

#include "models/builtin_kinds.h"
#include "vigil/models/neural/autoencoder.h"

namespace vigil {
namespace {

using models_internal::ConfigError;
using Activation = AutoencoderOptions::Activation;

constexpr std::string_view kKind = Autoencoder::kKind;
constexpr std::string_view kFormat = "vigil.autoencoder";
constexpr int kFormatVersion = 1;
// Bounds that keep a typo from allocating gigabytes; far above any useful setting.
constexpr int kMaxLayerWidth = 1 << 16;
constexpr int kMaxLayers = 16;

std::string_view ActivationName(Activation activation) {
  return activation == Activation::kTanh ? "tanh" : "relu";
}

Result<std::vector<int>> ParseHidden(const nlohmann::json& config) {
  if (!config.is_object() || !config.contains("hidden")) return std::vector<int>{};
  const nlohmann::json& value = config.at("hidden");
  if (value.is_string() && value.get<std::string>() == "auto") return std::vector<int>{};
  if (!value.is_array() || value.empty()) {
    return ConfigError(kKind, "hidden", "expected \"auto\" or a non-empty list of widths");
  }
  std::vector<int> widths;
  for (const nlohmann::json& width : value) {
    if (!width.is_number_integer()) {
      return ConfigError(kKind, "hidden", "every width must be an integer");
    }
    const int64_t number = width.get<int64_t>();
    if (number < 1 || number > kMaxLayerWidth) {
      return ConfigError(kKind, "hidden", "widths must be in [1, 65536]");
    }
    widths.push_back(static_cast<int>(number));
  }
  return widths;
}

Result<uint64_t> ParseSeed(const nlohmann::json& config) {
  if (!config.is_object() || !config.contains("seed")) return uint64_t{0};
  const nlohmann::json& value = config.at("seed");
  if (value.is_number_unsigned()) return value.get<uint64_t>();
  if (value.is_number_integer() && value.get<int64_t>() >= 0) {
    return static_cast<uint64_t>(value.get<int64_t>());
  }
  return ConfigError(kKind, "seed", "must be a non-negative integer");
}

Result<Activation> ParseActivation(const nlohmann::json& config) {
  VIGIL_ASSIGN_OR_RETURN(std::string name,
                         models_internal::ConfigString(kKind, config, "activation", "relu"));
  if (name == "relu") return Activation::kRelu;
  if (name == "tanh") return Activation::kTanh;
  return ConfigError(kKind, "activation", "'" + name + "' (expected relu or tanh)");
}

// Reads the training-loop keys (epochs ... threads) into `options`.
Status ParseTrainingKeys(const nlohmann::json& config, AutoencoderOptions& options) {
  using models_internal::ConfigInt;
  using models_internal::ConfigNumber;
  VIGIL_ASSIGN_OR_RETURN(options.epochs, ConfigInt(kKind, config, "epochs", options.epochs));
  VIGIL_ASSIGN_OR_RETURN(options.batch_size,
                         ConfigInt(kKind, config, "batch_size", options.batch_size));
  VIGIL_ASSIGN_OR_RETURN(options.learning_rate,
                         ConfigNumber(kKind, config, "learning_rate", options.learning_rate));
  VIGIL_ASSIGN_OR_RETURN(options.weight_decay,
                         ConfigNumber(kKind, config, "weight_decay", options.weight_decay));
  VIGIL_ASSIGN_OR_RETURN(
      options.validation_fraction,
      ConfigNumber(kKind, config, "validation_fraction", options.validation_fraction));
  VIGIL_ASSIGN_OR_RETURN(options.patience, ConfigInt(kKind, config, "patience", options.patience));
  VIGIL_ASSIGN_OR_RETURN(options.threads, ConfigInt(kKind, config, "threads", options.threads));
  return Status::Ok();
}

// A DataError naming the state file.
Status StateError(const std::string& path, const std::string& what) {
  return DataError(path + ": " + what);
}

bool AllFinite(const std::vector<double>& values) {
  return std::all_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); });
}

}  // namespace

Status AutoencoderOptions::Validate() const {
  if (hidden.size() > static_cast<size_t>(kMaxLayers)) {
    return ConfigError(kKind, "hidden", "at most 16 encoder layers");
  }
  for (int width : hidden) {
    if (width < 1 || width > kMaxLayerWidth) {
      return ConfigError(kKind, "hidden", "widths must be in [1, 65536]");
    }
  }
  if (epochs < 1) return ConfigError(kKind, "epochs", "must be >= 1");
  if (batch_size < 1) return ConfigError(kKind, "batch_size", "must be >= 1");
  if (!(learning_rate > 0) || !std::isfinite(learning_rate)) {
    return ConfigError(kKind, "learning_rate", "must be a finite number > 0");
  }
  if (!(weight_decay >= 0) || !std::isfinite(weight_decay)) {
    return ConfigError(kKind, "weight_decay", "must be a finite number >= 0");
  }
  if (!(validation_fraction >= 0 && validation_fraction <= 0.5)) {
    return ConfigError(kKind, "validation_fraction", "must be in [0, 0.5]");
  }
  if (patience < 1) return ConfigError(kKind, "patience", "must be >= 1");
  if (threads < 1 && threads != -1) {
    return ConfigError(kKind, "threads", "must be >= 1, or -1 for every core");
  }
  return contamination.Validate().WithContext("model 'autoencoder'");
}

Result<AutoencoderOptions> AutoencoderOptions::FromJson(const nlohmann::json& config) {
  VIGIL_RETURN_IF_ERROR(models_internal::CheckConfigKeys(
      kKind, config,
      {"hidden", "activation", "epochs", "batch_size", "learning_rate", "weight_decay",
       "validation_fraction", "patience", "seed", "threads", "contamination"}));
  AutoencoderOptions options;
  VIGIL_ASSIGN_OR_RETURN(options.hidden, ParseHidden(config));
  VIGIL_ASSIGN_OR_RETURN(options.activation, ParseActivation(config));
  VIGIL_RETURN_IF_ERROR(ParseTrainingKeys(config, options));
  VIGIL_ASSIGN_OR_RETURN(options.seed, ParseSeed(config));
  VIGIL_ASSIGN_OR_RETURN(options.contamination, Contamination::FromJson(kKind, config));
  VIGIL_RETURN_IF_ERROR(options.Validate());
  return options;
}

nlohmann::json AutoencoderOptions::ToJson() const {
  return {{"hidden", hidden.empty() ? nlohmann::json("auto") : nlohmann::json(hidden)},
          {"activation", ActivationName(activation)},
          {"epochs", epochs},
          {"batch_size", batch_size},
          {"learning_rate", learning_rate},
          {"weight_decay", weight_decay},
          {"validation_fraction", validation_fraction},
          {"patience", patience},
          {"seed", seed},
          {"threads", threads},
          {"contamination", contamination.ToJson()}};
}

std::vector<int> AutoencoderOptions::EncoderWidths(int inputs) const {
  if (!hidden.empty()) return hidden;
  return {std::max(2, inputs / 2), std::max(1, inputs / 4)};
}

std::vector<int> Autoencoder::LayerWidthsFor(int inputs) const {
  const std::vector<int> encoder = options_.EncoderWidths(inputs);
  std::vector<int> widths = {inputs};
  widths.insert(widths.end(), encoder.begin(), encoder.end());
  widths.insert(widths.end(), encoder.rbegin() + 1, encoder.rend());  // the mirror
  widths.push_back(inputs);
  return widths;
}

nlohmann::json Autoencoder::Describe() const {
  if (!fitted()) return {{"kind", kKind}, {"fitted", false}, {"config", config()}};
  nlohmann::json ignored = nlohmann::json::array();
  for (size_t col = 0, next = 0; col < feature_names_.size(); ++col) {
    const bool in_network =
        next < network_features_.size() && static_cast<size_t>(network_features_[next]) == col;
    if (in_network) ++next;
    if (!in_network) ignored.push_back(feature_names_[col]);
  }
  return {{"kind", kKind},
          {"fitted", true},
          {"architecture",
           {{"layers", layer_widths_},
            {"activation", ActivationName(options_.activation)},
            {"ignored_features", ignored}}},
          {"epochs_run", epochs_run_},
          {"best_epoch", best_epoch_},
          {"train_loss", train_loss_},
          {"validation_loss", validation_loss_ ? nlohmann::json(*validation_loss_) : nullptr},
          {"threshold", calibration_.threshold()},
          {"contamination", calibration_.contamination()},
          {"calibration", calibration_.ToJson()}};
}

nlohmann::json Autoencoder::StateJson(uint64_t parameter_checksum) const {
  // nlohmann writes shortest round-trip doubles: loading restores every value exactly.
  return {{"format", kFormat},
          {"version", kFormatVersion},
          {"feature_names", feature_names_},
          {"means", means_},
          {"sds", sds_},
          {"network_features", network_features_},
          {"layers", layer_widths_},
          {"activation", ActivationName(options_.activation)},
          {"epochs_run", epochs_run_},
          {"best_epoch", best_epoch_},
          {"train_loss", train_loss_},
          {"validation_loss", validation_loss_ ? nlohmann::json(*validation_loss_) : nullptr},
          {"calibration", calibration_.ToJson()},
          {"parameter_checksum", parameter_checksum}};
}

Status Autoencoder::RestoreState(const nlohmann::json& doc, const std::string& path) {
  try {
    if (!doc.is_object() || doc.value("format", "") != kFormat) {
      return StateError(path, "not a '" + std::string(kFormat) + "' document");
    }
    if (doc.value("version", 0) != kFormatVersion) return StateError(path, "unsupported version");
    feature_names_ = doc.at("feature_names").get<std::vector<std::string>>();
    means_ = doc.at("means").get<std::vector<double>>();
    sds_ = doc.at("sds").get<std::vector<double>>();
    network_features_ = doc.at("network_features").get<std::vector<int>>();
    layer_widths_ = doc.at("layers").get<std::vector<int>>();
    if (doc.at("activation").get<std::string>() != ActivationName(options_.activation)) {
      return StateError(path, "activation differs from the configuration");
    }
    epochs_run_ = doc.at("epochs_run").get<int>();
    best_epoch_ = doc.at("best_epoch").get<int>();
    train_loss_ = doc.at("train_loss").get<double>();
    const nlohmann::json& validation = doc.at("validation_loss");
    validation_loss_ =
        validation.is_null() ? std::nullopt : std::optional<double>(validation.get<double>());
    Result<ScoreCalibration> calibration = ScoreCalibration::FromJson(doc.at("calibration"));
    if (!calibration.ok()) return StateError(path, calibration.status().message());
    calibration_ = *calibration;
  } catch (const std::exception& e) {
    return StateError(path, e.what());
  }
  return CheckState(path);
}

Status Autoencoder::CheckState(const std::string& path) const {
  const size_t cols = feature_names_.size();
  if (cols == 0 || means_.size() != cols || sds_.size() != cols) {
    return StateError(path, "means and sds must have one entry per feature");
  }
  if (!AllFinite(means_) || !AllFinite(sds_) ||
      !std::all_of(sds_.begin(), sds_.end(), [](double sd) { return sd > 0; })) {
    return StateError(path, "bad mean or sd");
  }
  const bool increasing = std::adjacent_find(network_features_.begin(), network_features_.end(),
                                             std::greater_equal<>()) == network_features_.end();
  if (network_features_.empty() || !increasing || network_features_.front() < 0 ||
      network_features_.back() >= static_cast<int>(cols)) {
    return StateError(path, "network_features must be increasing feature indices");
  }
  if (layer_widths_ != LayerWidthsFor(static_cast<int>(network_features_.size()))) {
    return StateError(path, "layers do not match the configuration's architecture");
  }
  if (!std::isfinite(train_loss_) || (validation_loss_ && !std::isfinite(*validation_loss_)) ||
      epochs_run_ < 1 || best_epoch_ < 1 || best_epoch_ > epochs_run_) {
    return StateError(path, "bad training summary");
  }
  return Status::Ok();
}

Status RegisterNeuralModelKinds() {
  static std::once_flag once;
  static Status status;
  std::call_once(once, [] {
    status = RegisterModelKind(
        std::string(kKind), Task::kAnomaly,
        [](const nlohmann::json& config) -> Result<std::unique_ptr<Model>> {
          VIGIL_ASSIGN_OR_RETURN(AutoencoderOptions options, AutoencoderOptions::FromJson(config));
          return std::unique_ptr<Model>(std::make_unique<Autoencoder>(std::move(options)));
        });
  });
  return status;
}

}  // namespace vigil
