#!/usr/bin/env Rscript
# R counterparts of bench/forecast_benchmark.cc, for docs/benchmarks.md: stats::arima,
# forecast::auto.arima and fGarch::garchFit on the same series as Vigil.
#
#   Rscript scripts/bench/forecast_r.R export DIR          # R's classic series -> DIR/series
#   Rscript scripts/bench/forecast_r.R time DIR [N_AUTO]   # times the reference fits
#
# `export` writes the series that ship with R (log AirPassengers, lynx, Nile, LakeHuron,
# WWWusage, sunspot.year, and fGarch's dem2gbp) as DIR/series/<name>.csv, one column
# "value", 17 significant digits, so every tool reads the same numbers. The benchmark's
# `--write_reference_inputs=DIR` adds the crypto returns, the generated auto_arima series
# and the case tables (arima_cases.csv, garch_cases.csv), plus Vigil's answers for checks.
#
# `time` prints, one line each:
#   time <case> <wall s> <cpu s> <what>   best of 3 repeats, each the mean over enough calls
#                                         to last >= 0.2 s (<case> names a Vigil benchmark)
#   check <what> <value>                  agreement with Vigil's answers, when written
# auto.arima is timed once over the first N_AUTO generated series (default: all 1,000) and,
# for a subset, scaled to 1,000 series (the "what" field says so). R runs single-threaded.
suppressPackageStartupMessages({
  library(forecast)
  library(fGarch)
})

write_series <- function(dir, name, values) {
  path <- file.path(dir, "series", paste0(name, ".csv"))
  writeLines(c("value", sprintf("%.17g", as.numeric(values))), path)
}

export_series <- function(dir) {
  dir.create(file.path(dir, "series"), recursive = TRUE, showWarnings = FALSE)
  data(dem2gbp, package = "fGarch", envir = environment())
  series <- list(air_log = log(AirPassengers), lynx = lynx, nile = Nile,
                 lakehuron = LakeHuron, wwwusage = WWWusage, sunspot_year = sunspot.year,
                 dem2gbp = dem2gbp[, 1])
  for (name in names(series)) write_series(dir, name, series[[name]])
  cat(sprintf("# wrote %d series to %s\n", length(series), file.path(dir, "series")))
}

read_series <- function(dir, name) {
  read.csv(file.path(dir, "series", paste0(name, ".csv")))$value
}

# (wall, cpu) seconds per call: best of 3 repeats of `number` calls; `number` grows until a
# repeat lasts 0.2 s, as Python's timeit autorange.
best_of <- function(fn) {
  number <- 1
  repeat {
    start <- proc.time()
    for (i in seq_len(number)) fn()
    if ((proc.time() - start)[["elapsed"]] >= 0.2 || number >= 1000) break
    number <- number * 2
  }
  best <- c(Inf, Inf)
  for (r in 1:3) {
    start <- proc.time()
    for (i in seq_len(number)) fn()
    used <- proc.time() - start
    wall <- used[["elapsed"]] / number
    if (wall < best[1]) best <- c(wall, (used[["user.self"]] + used[["sys.self"]]) / number)
  }
  best
}

report_time <- function(case, seconds, what) {
  cat(sprintf("time %s %.6f %.6f %s\n", case, seconds[1], seconds[2], what))
}

report_check <- function(what, value) cat(sprintf("check %s %s\n", what, value))

read_vigil <- function(dir, file) {
  path <- file.path(dir, file)
  if (file.exists(path)) read.csv(path, stringsAsFactors = FALSE) else NULL
}

# stats::arima, method CSS-ML (its default); intercept for d = 0 when the case has a
# constant, drift (xreg = 1..n, as forecast's include.drift) for d = 1.
fit_arima <- function(y, case) {
  order <- c(case$p, case$d, case$q)
  if (case$constant == 1 && case$d == 1) {
    arima(y, order = order, xreg = cbind(drift = seq_along(y)), method = "CSS-ML")
  } else {
    arima(y, order = order, include.mean = case$constant == 1, method = "CSS-ML")
  }
}

time_arima <- function(dir) {
  cases <- read.csv(file.path(dir, "arima_cases.csv"), stringsAsFactors = FALSE)
  vigil <- read_vigil(dir, "vigil_arima.csv")
  for (i in seq_len(nrow(cases))) {
    case <- cases[i, ]
    y <- read_series(dir, case$series)
    fit <- tryCatch(fit_arima(y, case), error = function(e) e)
    if (inherits(fit, "error")) {
      report_check(paste0(case$case, " R-error"), gsub(" ", "_", conditionMessage(fit)))
      next
    }
    seconds <- best_of(function() fit_arima(y, case))
    report_time(case$case, seconds, sprintf("stats::arima(order=c(%d,%d,%d), CSS-ML), n=%d",
                                            case$p, case$d, case$q, length(y)))
    report_check(paste0(case$case, " R-loglik"), sprintf("%.10g", fit$loglik))
    if (!is.null(vigil) && case$case %in% vigil$case) {
      theirs <- vigil$loglik[vigil$case == case$case]
      report_check(paste0(case$case, " |loglik-vigil|/|loglik|"),
                   sprintf("%.2e", abs(fit$loglik - theirs) / abs(fit$loglik)))
    }
  }
  # One exact likelihood evaluation at fixed coefficients (no optimisation).
  micro <- read_vigil(dir, "arima_loglik_case.csv")
  if (!is.null(micro)) {
    micro <- micro[micro$name != "sigma2", ]  # R concentrates sigma2 out
    y <- read_series(dir, micro$series[1])
    coefs <- micro$value
    order <- c(micro$p[1], micro$d[1], micro$q[1])
    seconds <- best_of(function() {
      arima(y, order = order, fixed = coefs, transform.pars = FALSE, method = "ML")
    })
    report_time(micro$case[1], seconds, sprintf("stats::arima(fixed=, method=ML), n=%d",
                                                length(y)))
  }
}

time_garch <- function(dir) {
  cases <- read.csv(file.path(dir, "garch_cases.csv"), stringsAsFactors = FALSE)
  vigil <- read_vigil(dir, "vigil_garch.csv")
  for (i in seq_len(nrow(cases))) {
    case <- cases[i, ]
    y <- read_series(dir, case$series)
    fit_garch <- function() garchFit(~ garch(1, 1), data = y, cond.dist = "norm",
                                     include.mean = TRUE, trace = FALSE)
    fit <- fit_garch()
    seconds <- best_of(fit_garch)
    report_time(case$case, seconds,
                sprintf("fGarch::garchFit(~garch(1,1), cond.dist=norm), n=%d", length(y)))
    coefs <- coef(fit)
    report_check(paste0(case$case, " R-coef"),
                 paste(sprintf("%s=%.6g", names(coefs), coefs), collapse = ","))
    report_check(paste0(case$case, " R-loglik"), sprintf("%.10g", -fit@fit$llh))
    if (!is.null(vigil) && case$case %in% vigil$case) {
      row <- vigil[vigil$case == case$case, ]
      report_check(paste0(case$case, " max-rel|coef-vigil|"),
                   sprintf("%.2e", max(abs(coefs - unlist(row[names(coefs)])) / abs(coefs))))
    }
  }
}

time_auto_arima <- function(dir, n_auto) {
  series <- as.matrix(read.csv(file.path(dir, "auto_arima_series.csv"), header = FALSE))
  n_auto <- min(n_auto, nrow(series))
  orders <- matrix(NA_integer_, n_auto, 4)
  start <- proc.time()
  for (i in seq_len(n_auto)) {
    fit <- auto.arima(series[i, ], seasonal = FALSE, stepwise = TRUE)
    orders[i, ] <- c(arimaorder(fit), as.integer(any(c("intercept", "drift") %in% names(coef(fit)))))
  }
  used <- proc.time() - start
  scale <- nrow(series) / n_auto
  what <- sprintf("forecast::auto.arima(seasonal=FALSE, stepwise=TRUE), %d series of length %d,",
                  nrow(series), ncol(series))
  what <- paste(what, if (scale == 1) "one pass" else
    sprintf("timed on the first %d and scaled x%.1f", n_auto, scale))
  report_time("auto_arima_1000x500", c(used[["elapsed"]], used[["user.self"]] + used[["sys.self"]]) * scale,
              what)
  report_check("auto_arima R-seconds-per-series", sprintf("%.4f", used[["elapsed"]] / n_auto))
  vigil <- read_vigil(dir, "vigil_auto_arima.csv")
  if (!is.null(vigil)) {
    same <- vigil$p[1:n_auto] == orders[, 1] & vigil$d[1:n_auto] == orders[, 2] &
      vigil$q[1:n_auto] == orders[, 3] & vigil$constant[1:n_auto] == orders[, 4]
    report_check("auto_arima same-order-and-constant-as-vigil",
                 sprintf("%d/%d", sum(same, na.rm = TRUE), n_auto))
    for (i in head(which(is.na(same) | !same), 10)) {
      report_check(sprintf("auto_arima differs series=%d", i),
                   sprintf("vigil=(%s,%s,%s)+%s R=(%d,%d,%d)+%d", vigil$p[i], vigil$d[i], vigil$q[i],
                           vigil$constant[i], orders[i, 1], orders[i, 2], orders[i, 3], orders[i, 4]))
    }
  }
}

main <- function() {
  args <- commandArgs(trailingOnly = TRUE)
  if (length(args) < 2 || !(args[1] %in% c("export", "time"))) {
    stop("usage: forecast_r.R export DIR | forecast_r.R time DIR [N_AUTO]")
  }
  dir <- args[2]
  if (args[1] == "export") return(export_series(dir))
  n_auto <- if (length(args) >= 3) as.integer(args[3]) else .Machine$integer.max
  cat(sprintf("# %s; forecast %s, fGarch %s; one thread\n", R.version.string,
              packageVersion("forecast"), packageVersion("fGarch")))
  time_arima(dir)
  time_garch(dir)
  time_auto_arima(dir, n_auto)
}

main()
