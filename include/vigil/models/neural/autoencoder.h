// Kind "autoencoder": an MLP autoencoder trained with LibTorch to reconstruct standardized
// feature rows; a row it cannot reconstruct is anomalous (reconstruction-error novelty
// detection: Japkowicz, Myers & Gluck 1995; Sakurada & Yairi 2014). It lives in the
// vigil_models_neural target (built when VIGIL_WITH_TORCH is ON); this header does not
// include LibTorch (the network sits behind a pointer to an incomplete type).
//
//   VIGIL_RETURN_IF_ERROR(vigil::RegisterNeuralModelKinds());   // once, e.g. in main
//   VIGIL_ASSIGN_OR_RETURN(auto model, vigil::CreateModel("autoencoder", {{"epochs", 30}}));
//   auto* detector = vigil::AsAnomalyDetector(model.get());
//   VIGIL_RETURN_IF_ERROR(detector->Fit(train));
//   VIGIL_ASSIGN_OR_RETURN(vigil::AnomalyScores scores, detector->Score(live));
//
// Model. Features are standardized with the training mean and population sd. A feature that
// is constant in training (max == min) gets sd 1 and is left out of the network, the raw
// score and the contributions: it contributes nothing. Let d be the number of remaining
// features (at least 1, or Fit fails). The encoder is Linear layers of the `hidden` widths
// h1..hk, the decoder mirrors it (h(k-1)..h1) and ends in Linear(., d):
//   d -> h1 -> ... -> hk -> h(k-1) -> ... -> h1 -> d
// `activation` follows every layer except the code layer (hk) and the output layer, which
// are linear (a linear code keeps the PCA-like solution reachable; the output must reach
// any standardized value). Weights start as in PyTorch's nn.Linear (uniform in
// +-1/sqrt(fan_in)), drawn from vigil::Rng, so they do not depend on LibTorch's global RNG.
// Training: Adam on the mean squared reconstruction error, minibatches of shuffled rows.
// With validation_fraction > 0, that fraction of the rows (a seeded random subset of
// floor(fraction * rows) rows, at least one) is held out:
// training stops after `patience` epochs without a lower validation loss and the weights
// of the best epoch are restored. Calibration uses every training row.
//
// Configuration (all optional):
//   "hidden"               encoder widths, a non-empty list of positive integers, or "auto"
//                          (default): [max(2, d/2), max(1, d/4)] (integer division)
//   "activation"           "relu" (default) or "tanh"
//   "epochs"               maximum passes over the training rows, >= 1 (default 50)
//   "batch_size"           rows per Adam step, >= 1 (default 128)
//   "learning_rate"        Adam step size, > 0 (default 1e-3)
//   "weight_decay"         Adam's L2 penalty (added to the gradient, as torch.optim.Adam),
//                          >= 0 (default 0)
//   "validation_fraction"  held-out share for early stopping, in [0, 0.5]; 0 disables
//                          early stopping (default 0.1)
//   "patience"             epochs without validation improvement before stopping, >= 1
//                          (default 5)
//   "seed"                 non-negative integer (default 0): initial weights, shuffling and
//                          the validation split
//   "threads"              LibTorch intra-op threads during Fit and Score, >= 1 or -1 for
//                          every core (default 1). Results are deterministic for a fixed
//                          seed and thread count; another thread count may change the last
//                          bits (the BLAS splits sums differently) and hence the training
//                          path. Note: it sets LibTorch's thread count for the calling
//                          thread (OpenMP), which other LibTorch users on that thread see.
//   "contamination"        "auto" (default) or a fraction in (0, 0.5]
// Raw score: the mean over the d network features of the squared reconstruction error of
// the standardized row, computed in double from the network's float32 input and output.
// Threshold: contamination fraction f -> the (1 - f) training quantile of raw; "auto" ->
// Tukey's fence (no native threshold). 0..100 score by ScoreCalibration (80 = threshold).
// Contributions: each feature's share of the row's squared reconstruction error (0 for
// constant features).
// Inputs: every value finite (NaN or infinity -> InvalidArgument naming row and column).
// Fit needs at least 2 rows. Score runs the network in batches of kScoreBatchRows rows.
// Weight files: <dir>/autoencoder.pt (torch::save of the parameter tensors, in layer order
// weight, bias, ...) and <dir>/autoencoder.json (standardization, architecture, training
// summary, calibration, and a checksum of the parameters). LoadWeights rebuilds the network
// from the configuration and both files and restores scores bit for bit; a missing or
// corrupt file, or one that disagrees with the configuration, is DataError naming it.
// Errors: LibTorch exceptions are caught inside and returned as Status (Internal for a
// failure during training or scoring); a fit whose training errors are not finite (it
// diverged) is InvalidArgument suggesting a lower learning_rate.
// Thread-safety: as for every Model (const methods concurrent, Fit/LoadWeights exclusive).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/models/anomaly/calibration.h"
#include "vigil/models/model.h"

namespace vigil {

// Registers the LibTorch kinds ("autoencoder") with RegisterModelKind. Runs once per
// process (std::call_once); every call returns the first call's status. Thread-safe.
Status RegisterNeuralModelKinds();

struct AutoencoderOptions {
  enum class Activation { kRelu, kTanh };

  std::vector<int> hidden;  // encoder widths; empty = "auto" (depends on the feature count)
  Activation activation = Activation::kRelu;
  int epochs = 50;
  int batch_size = 128;
  double learning_rate = 1e-3;
  double weight_decay = 0.0;
  double validation_fraction = 0.1;
  int patience = 5;
  uint64_t seed = 0;
  int threads = 1;  // >= 1, or -1 = all cores
  Contamination contamination = Contamination::Auto();

  Status Validate() const;
  static Result<AutoencoderOptions> FromJson(const nlohmann::json& config);
  nlohmann::json ToJson() const;  // complete: every key, defaults included
  // The encoder widths for `inputs` network features (`hidden`, or the "auto" default).
  std::vector<int> EncoderWidths(int inputs) const;
};

class Autoencoder final : public AnomalyDetector {
 public:
  static constexpr std::string_view kKind = "autoencoder";
  static constexpr std::string_view kParametersFile = "autoencoder.pt";
  static constexpr std::string_view kStateFile = "autoencoder.json";
  static constexpr int64_t kScoreBatchRows = 4096;

  explicit Autoencoder(AutoencoderOptions options = {});
  ~Autoencoder() override;
  Autoencoder(Autoencoder&&) noexcept;
  Autoencoder& operator=(Autoencoder&&) noexcept;
  Autoencoder(const Autoencoder&) = delete;
  Autoencoder& operator=(const Autoencoder&) = delete;

  std::string_view kind() const override { return kKind; }
  nlohmann::json config() const override { return options_.ToJson(); }
  Status SaveWeights(const std::filesystem::path& dir) const override;
  Status LoadWeights(const std::filesystem::path& dir) override;
  // {"architecture": {"layers": [d, h1, ..., d], "activation", "ignored_features"},
  //  "epochs_run", "best_epoch", "train_loss", "validation_loss" (null without validation),
  //  "threshold", "contamination" (training fraction flagged), ...}.
  nlohmann::json Describe() const override;
  bool fitted() const override { return network_ != nullptr; }
  const std::vector<std::string>& feature_names() const override { return feature_names_; }

  Status Fit(const FeatureMatrix& x) override;
  // Fails if unfitted, on a column mismatch or on a non-finite value.
  Result<AnomalyScores> Score(const FeatureMatrix& x) const override;
  Result<std::vector<double>> Contributions(const FeatureMatrix& x) const override;

  // Fitted state (preconditions: fitted).
  const std::vector<int>& layer_widths() const { return layer_widths_; }  // d, h1, ..., d
  int epochs_run() const { return epochs_run_; }
  int best_epoch() const { return best_epoch_; }     // 1-based epoch whose weights are kept
  double train_loss() const { return train_loss_; }  // mean raw over the training part
  std::optional<double> validation_loss() const { return validation_loss_; }
  const ScoreCalibration& calibration() const { return calibration_; }
  const std::vector<double>& means() const { return means_; }
  const std::vector<double>& sds() const { return sds_; }  // 1 for constant features

 private:
  struct Network;  // the LibTorch parameters (autoencoder.cc)

  // Runs the network over x in batches, calling on_batch for each (see autoencoder.cc).
  template <typename OnBatch>
  Status Reconstruct(const FeatureMatrix& x, OnBatch&& on_batch) const;
  Status CheckInput(const FeatureMatrix& x) const;
  // Training mean / population sd per feature; constant features stay out of the network.
  void FitStandardization(const FeatureMatrix& x);
  // Training raw scores -> losses and calibration (after the network is trained).
  Status Calibrate(const FeatureMatrix& x, const std::vector<int64_t>& train_rows,
                   const std::vector<int64_t>& validation_rows);
  // Network errors of one row -> its shares over every feature (row_shares: cols entries).
  void ScatterShares(const std::vector<double>& errors, double* row_shares) const;
  // Parses autoencoder.pt bytes into network_ (DataError naming `path`).
  Status RestoreNetwork(const std::string& bytes, const std::string& path,
                        uint64_t expected_checksum);
  Result<std::vector<double>> RawScores(const FeatureMatrix& x) const;
  // [d, h1, ..., hk, ..., h1, d] for d network features under options_.
  std::vector<int> LayerWidthsFor(int inputs) const;
  // The autoencoder.json document, and its inverse (DataError naming `path`).
  nlohmann::json StateJson(uint64_t parameter_checksum) const;
  Status RestoreState(const nlohmann::json& doc, const std::string& path);
  Status CheckState(const std::string& path) const;

  AutoencoderOptions options_;
  std::vector<std::string> feature_names_;
  std::vector<double> means_;
  std::vector<double> sds_;
  std::vector<int> network_features_;  // columns the network sees (non-constant)
  std::vector<int> layer_widths_;
  int epochs_run_ = 0;
  int best_epoch_ = 0;
  double train_loss_ = 0.0;
  std::optional<double> validation_loss_;
  ScoreCalibration calibration_;
  std::unique_ptr<Network> network_;  // null until fitted
};

}  // namespace vigil
