// Webhooks: alerts POSTed as JSON to configured URLs, off the scoring path.
//
//   vigil::WebhookDispatcher hooks({{.url = "http://127.0.0.1:9000/alerts"}}, &metrics);
//   hooks.Enqueue(alert);        // never blocks
//   hooks.Drain(std::chrono::seconds(5));  // at shutdown: wait for queued sends
//
// One sender thread per webhook with a bounded queue: Enqueue copies the alert into every
// queue and returns at once; a full queue drops its oldest alert (counted, logged once per
// burst). A send is an HTTP(S) POST of AlertJson(alert) with Content-Type
// application/json and the configured headers; a 2xx answer is success; a connection
// error, timeout, 429 or 5xx is retried with exponential backoff (initial_backoff x
// factor^n, capped at max_backoff, with +-20% jitter) up to max_attempts, then given up
// (counted and logged); other 4xx answers are not retried.
// Metrics: vigil_webhook_sent_total, vigil_webhook_failed_total, vigil_webhook_dropped_total,
// vigil_webhook_retries_total (label url: the URL without its query, which may hold a token).
// Hooks are expected to be valid (WebhookOptions::Validate, as the config loader checks); an
// invalid one is logged at construction and counts every alert as failed. Backoffs are real
// waits (keep them small in tests); the destructor cuts them and an in-flight send short.
// Thread-safety: Enqueue may be called from any thread.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/serve/metrics.h"
#include "vigil/store/store.h"

namespace vigil {

struct WebhookOptions {
  std::string url;  // http:// or https://host[:port]/path
  std::map<std::string, std::string> headers;
  std::chrono::milliseconds timeout{2000};
  int max_attempts = 5;  // >= 1
  std::chrono::milliseconds initial_backoff{200};
  double backoff_factor = 2.0;  // >= 1
  std::chrono::milliseconds max_backoff{10000};
  int64_t queue_capacity = 10000;  // >= 1
  Status Validate() const;         // InvalidArgument naming the field
};

// {"alert_id":..,"rule":..,"instrument":..,"ts":"ISO","severity":..,"score":..|null,
//  "message":..,"model":..|null,"model_version":..|null,"acknowledged":..,"created_at":"ISO",
//  "features": the parsed features_json (null when empty; the text when not JSON)}
nlohmann::json AlertJson(const AlertRow& alert);

struct WebhookStats {
  int64_t sent = 0, failed = 0, dropped = 0, retries = 0, queued = 0;
};

class WebhookDispatcher {
 public:
  // `metrics` may be null (stats() still counts); otherwise it must outlive the dispatcher.
  WebhookDispatcher(std::vector<WebhookOptions> hooks, MetricsRegistry* metrics);
  ~WebhookDispatcher();  // stops without waiting for queued sends (call Drain first)
  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

  void Enqueue(const AlertRow& alert);
  // Waits until every queue is empty and no send is in flight, or `timeout` passes;
  // true when drained.
  bool Drain(std::chrono::milliseconds timeout);
  WebhookStats stats() const;

 private:
  struct Sender;
  std::vector<std::unique_ptr<Sender>> senders_;
};

}  // namespace vigil
