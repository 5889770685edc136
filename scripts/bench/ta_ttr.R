#!/usr/bin/env Rscript
# The `ta` feature set computed with R's TTR package, for the comparison in
# docs/benchmarks.md. Reads a candle CSV (date,open,high,low,close,volume), computes the
# same 20 columns as Vigil's `ta` set with TTR's own functions and default parameters, and
# times only the computation: best of 3 (elapsed time).
#
#   Rscript scripts/bench/ta_ttr.R CANDLES.csv [FEATURES.csv]
script_dir <- dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)))
source(file.path(script_dir, "..", "r", "ta_set.R"))

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 1) stop("usage: ta_ttr.R CANDLES.csv [FEATURES.csv]")
candles <- read.csv(args[1], colClasses = c("character", rep("numeric", 5)))

best <- Inf
for (i in 1:3) {
  start <- proc.time()[["elapsed"]]
  features <- ta_set(candles$high, candles$low, candles$close, candles$volume)
  best <- min(best, proc.time()[["elapsed"]] - start)
}
if (length(args) >= 2) write.csv(features, args[2], row.names = FALSE)
cat(sprintf("TTR %s ta set over %d rows: %.3f s\n", packageVersion("TTR"), nrow(candles), best))
