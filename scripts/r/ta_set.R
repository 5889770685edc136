# The `ta` feature set with R's TTR package: one definition shared by the fixture script
# (scripts/fixtures/ttr_ta.R) and the benchmark comparison (scripts/bench/ta_ttr.R), so
# the reference Vigil is tested against is the computation it is timed against.
# TTR's defaults throughout; Bollinger bands on the close; logret_1 = diff(log(close)).
suppressPackageStartupMessages(library(TTR))

ta_set <- function(high, low, close, volume) {
  hlc <- cbind(High = high, Low = low, Close = close)
  macd <- MACD(close, nFast = 12, nSlow = 26, nSig = 9, maType = "EMA", percent = FALSE)
  bb <- BBands(close, n = 20, sd = 2)
  atr <- ATR(hlc, n = 14)
  adx <- ADX(hlc, n = 14)
  st <- stoch(hlc, nFastK = 14, nFastD = 3, nSlowD = 3)
  logret <- c(NA, diff(log(close)))
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
    stoch_fastk_14_3_3 = st[, "fastK"],
    stoch_fastd_14_3_3 = st[, "fastD"],
    stoch_slowd_14_3_3 = st[, "slowD"],
    obv = OBV(close, volume),
    logret_1 = logret,
    rv_20 = runSD(logret, 20)
  )
}
