#!/usr/bin/env Rscript
# The `ta` feature set computed with R's TTR package, for the comparison in
# docs/benchmarks.md. Reads a candle CSV (date,open,high,low,close,volume), computes the
# same 20 columns as Vigil's `ta` set with TTR's own functions and default parameters, and
# times only the computation: best of 3 (elapsed time).
#
#   Rscript scripts/bench/ta_ttr.R CANDLES.csv [FEATURES.csv]
suppressPackageStartupMessages(library(TTR))

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 1) stop("usage: ta_ttr.R CANDLES.csv [FEATURES.csv]")
candles <- read.csv(args[1], colClasses = c("character", rep("numeric", 5)))

ta_set <- function(candles) {
  close <- candles$close
  hlc <- cbind(candles$high, candles$low, close)
  macd <- MACD(close, 12, 26, 9, maType = "EMA", percent = FALSE)
  bb <- BBands(close, n = 20, sd = 2)  # on the close, as Vigil's bb_* columns
  atr <- ATR(hlc, n = 14)
  adx <- ADX(hlc, n = 14)
  stoch <- stoch(hlc, nFastK = 14, nFastD = 3, nSlowD = 3)
  logret <- ROC(close, n = 1, type = "continuous")
  data.frame(
    sma_20 = SMA(close, 20),
    ema_20 = EMA(close, 20),
    wma_20 = WMA(close, 20),
    rsi_14 = RSI(close, 14),
    macd_12_26_9 = macd[, "macd"],
    macd_signal_12_26_9 = macd[, "signal"],
    macd_hist_12_26_9 = macd[, "macd"] - macd[, "signal"],
    bb_lower_20_2 = bb[, "dn"],
    bb_mid_20_2 = bb[, "mavg"],
    bb_upper_20_2 = bb[, "up"],
    bb_pctb_20_2 = bb[, "pctB"],
    tr = atr[, "tr"],
    atr_14 = atr[, "atr"],
    adx_14 = adx[, "ADX"],
    stoch_fastk_14_3_3 = stoch[, "fastK"],
    stoch_fastd_14_3_3 = stoch[, "fastD"],
    stoch_slowd_14_3_3 = stoch[, "slowD"],
    obv = OBV(close, candles$volume),
    logret_1 = logret,
    rv_20 = runSD(logret, 20)
  )
}

best <- Inf
for (i in 1:3) {
  start <- proc.time()[["elapsed"]]
  features <- ta_set(candles)
  best <- min(best, proc.time()[["elapsed"]] - start)
}
if (length(args) >= 2) write.csv(features, args[2], row.names = FALSE)
cat(sprintf("TTR %s ta set over %d rows: %.3f s\n", packageVersion("TTR"), nrow(candles), best))
