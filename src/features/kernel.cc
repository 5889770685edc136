#include "vigil/features/kernel.h"

namespace vigil {

Result<std::vector<Bar>> BarsFromCandles(const Frame& candles) {
  VIGIL_ASSIGN_OR_RETURN(auto open, candles.DoubleColumn("open"));
  VIGIL_ASSIGN_OR_RETURN(auto high, candles.DoubleColumn("high"));
  VIGIL_ASSIGN_OR_RETURN(auto low, candles.DoubleColumn("low"));
  VIGIL_ASSIGN_OR_RETURN(auto close, candles.DoubleColumn("close"));
  VIGIL_ASSIGN_OR_RETURN(auto volume, candles.DoubleColumn("volume"));
  std::vector<Bar> bars(static_cast<size_t>(candles.rows()));
  for (int64_t row = 0; row < candles.rows(); ++row) {
    bars[row] =
        Bar{candles.timestamps()[row], open[row], high[row], low[row], close[row], volume[row]};
  }
  return bars;
}

Frame ComputeOverBars(std::span<const std::unique_ptr<FeatureKernel>> kernels,
                      std::span<const Bar> bars) {
  std::vector<std::unique_ptr<FeatureKernel>> fresh;
  std::vector<ColumnSpec> columns;
  for (const auto& kernel : kernels) {
    fresh.push_back(kernel->Clone());
    for (const std::string& name : kernel->output_names()) columns.push_back({name});
  }
  Frame out(columns);
  out.Reserve(static_cast<int64_t>(bars.size()));
  std::vector<double> row(columns.size());
  for (const Bar& bar : bars) {
    size_t offset = 0;
    for (auto& kernel : fresh) {
      const size_t width = kernel->output_names().size();
      kernel->Update(bar, std::span<double>(row).subspan(offset, width));
      offset += width;
    }
    out.AppendRow(bar.ts, row);
  }
  return out;
}

}  // namespace vigil
