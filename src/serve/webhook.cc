#include "vigil/serve/webhook.h"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <utility>

#include "vigil/core/logging.h"

namespace vigil {
namespace {

// A hook's URL split the way httplib::Client wants it.
struct WebhookUrl {
  std::string origin;  // "http://host:port" (what httplib::Client takes)
  std::string path;    // "/alerts?token=..." (what Post takes)
  std::string label;   // origin + path without the query: the metrics label, free of secrets
};

Result<WebhookUrl> ParseWebhookUrl(const std::string& url) {
  const size_t scheme_end = url.find("://");
  const std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    return InvalidArgument("url: '" + url + "' must start with http:// or https://");
  }
  const size_t host_begin = scheme_end + 3;
  const size_t path_begin = std::min(url.find_first_of("/?", host_begin), url.size());
  const std::string authority = url.substr(host_begin, path_begin - host_begin);
  size_t colon = authority.rfind(':');
  if (!authority.empty() && authority[0] == '[' && colon < authority.find(']')) {
    colon = std::string::npos;  // an IPv6 literal without a port
  }
  const std::string host = authority.substr(0, colon);
  if (host.empty() || host.find_first_of(" @\r\n\t") != std::string::npos) {
    return InvalidArgument("url: '" + url + "' has no valid host");
  }
  if (colon != std::string::npos) {
    const std::string port = authority.substr(colon + 1);
    const bool digits =
        !port.empty() && port.size() <= 5 && std::all_of(port.begin(), port.end(), ::isdigit);
    if (!digits || std::stoi(port) < 1 || std::stoi(port) > 65535) {
      return InvalidArgument("url: '" + url + "' has an invalid port");
    }
  }
  WebhookUrl parsed;
  parsed.origin = scheme + "://" + authority;
  parsed.path = path_begin < url.size() ? url.substr(path_begin) : "/";
  if (parsed.path[0] == '?') parsed.path = "/" + parsed.path;
  parsed.label = parsed.origin + parsed.path.substr(0, parsed.path.find('?'));
  return parsed;
}

bool HasLineBreak(const std::string& text) {
  return text.find_first_of("\r\n") != std::string::npos;
}

enum class SendOutcome { kSent, kRetry, kGiveUp };

}  // namespace

Status WebhookOptions::Validate() const {
  VIGIL_RETURN_IF_ERROR(ParseWebhookUrl(url).status());
  for (const auto& [name, value] : headers) {
    // A line break would let a header value inject further headers or a body.
    if (name.empty() || HasLineBreak(name) || HasLineBreak(value) ||
        name.find(':') != std::string::npos) {
      return InvalidArgument("headers: '" + name + "' is not a valid header");
    }
  }
  if (timeout.count() <= 0) return InvalidArgument("timeout_ms: must be > 0");
  if (max_attempts < 1 || max_attempts > 100) {
    return InvalidArgument("max_attempts: must be between 1 and 100");
  }
  if (initial_backoff.count() < 0) return InvalidArgument("initial_backoff_ms: must be >= 0");
  if (!std::isfinite(backoff_factor) || backoff_factor < 1.0 || backoff_factor > 100.0) {
    return InvalidArgument("backoff_factor: must be between 1 and 100");
  }
  if (max_backoff < initial_backoff) {
    return InvalidArgument("max_backoff_ms: must be >= initial_backoff_ms");
  }
  if (queue_capacity < 1) return InvalidArgument("queue_capacity: must be >= 1");
  return Status::Ok();
}

nlohmann::json AlertJson(const AlertRow& alert) {
  nlohmann::json json = {
      {"alert_id", alert.alert_id},
      {"rule", alert.rule},
      {"instrument", alert.instrument},
      {"ts", alert.ts.ToIso()},
      {"severity", alert.severity},
      {"score", std::isfinite(alert.score) ? nlohmann::json(alert.score) : nlohmann::json()},
      {"message", alert.message},
      {"model", alert.model_name.empty() ? nlohmann::json() : nlohmann::json(alert.model_name)},
      {"model_version",
       alert.model_version ? nlohmann::json(*alert.model_version) : nlohmann::json()},
      {"acknowledged", alert.acknowledged},
      {"created_at", alert.created_at.ToIso()},
  };
  nlohmann::json features;  // null when there are none
  if (!alert.features_json.empty()) {
    features = nlohmann::json::parse(alert.features_json, nullptr, /*allow_exceptions=*/false);
    // Not JSON after all: pass the text on rather than lose it.
    if (features.is_discarded()) features = alert.features_json;
  }
  json["features"] = std::move(features);
  return json;
}

// One webhook: its queue and the thread that empties it.
struct WebhookDispatcher::Sender {
  Sender(WebhookOptions hook_options, MetricsRegistry* metrics);
  ~Sender();

  void Push(std::shared_ptr<const std::string> body);
  bool WaitIdle(std::chrono::steady_clock::time_point deadline);
  void AddStats(WebhookStats* stats);

 private:
  void Run();
  void Deliver(const std::string& body);
  SendOutcome SendOnce(const std::string& body, std::string* why);
  std::chrono::milliseconds Backoff(int retry);
  void Count(std::atomic<int64_t>& local, Counter* metric);

  WebhookOptions options_;
  std::optional<WebhookUrl> url_;  // empty when the options are invalid: every alert fails
  std::unique_ptr<httplib::Client> client_;  // used by the sender thread (stop() by any)
  std::mt19937_64 jitter_rng_{std::random_device{}()};
  std::atomic<int64_t> sent_{0}, failed_{0}, dropped_{0}, retries_{0};
  Counter* sent_metric_ = nullptr;
  Counter* failed_metric_ = nullptr;
  Counter* dropped_metric_ = nullptr;
  Counter* retries_metric_ = nullptr;

  std::mutex mutex_;
  std::condition_variable wake_;                          // new work or stopping
  std::condition_variable idle_;                          // queue empty and nothing in flight
  std::deque<std::shared_ptr<const std::string>> queue_;  // GUARDED_BY(mutex_)
  bool in_flight_ = false;                                // GUARDED_BY(mutex_)
  bool stopping_ = false;                                 // GUARDED_BY(mutex_)
  bool dropping_ = false;  // GUARDED_BY(mutex_): a burst of drops is logged once
  std::thread thread_;     // last: starts once everything above is built
};

WebhookDispatcher::Sender::Sender(WebhookOptions hook_options, MetricsRegistry* metrics)
    : options_(std::move(hook_options)) {
  Status valid = options_.Validate();
  auto url = ParseWebhookUrl(options_.url);
  const std::string label = url.ok() ? url->label : options_.url;
  if (metrics != nullptr) {
    const MetricLabels labels = {{"url", label}};
    sent_metric_ = &metrics->GetCounter("vigil_webhook_sent_total", "Alerts delivered", labels);
    failed_metric_ = &metrics->GetCounter("vigil_webhook_failed_total",
                                          "Alerts given up after retries or refused", labels);
    dropped_metric_ = &metrics->GetCounter("vigil_webhook_dropped_total",
                                           "Alerts dropped from a full queue", labels);
    retries_metric_ = &metrics->GetCounter("vigil_webhook_retries_total", "Send retries", labels);
  }
  if (!valid.ok()) {
    VIGIL_LOG_ERROR("webhook {}: {}; its alerts will fail", label, valid.message());
    return;
  }
  url_ = *url;
  client_ = std::make_unique<httplib::Client>(url_->origin);
  client_->set_connection_timeout(options_.timeout);
  client_->set_read_timeout(options_.timeout);
  client_->set_write_timeout(options_.timeout);
  client_->set_keep_alive(true);
  client_->set_tcp_nodelay(true);  // one small POST per alert: no Nagle delay (~40 ms)
  thread_ = std::thread([this] { Run(); });
}

WebhookDispatcher::Sender::~Sender() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (client_ != nullptr) client_->stop();  // cut an in-flight send short
  if (thread_.joinable()) thread_.join();
}

void WebhookDispatcher::Sender::Count(std::atomic<int64_t>& local, Counter* metric) {
  local.fetch_add(1);
  if (metric != nullptr) metric->Increment();
}

void WebhookDispatcher::Sender::Push(std::shared_ptr<const std::string> body) {
  if (!url_) {
    Count(failed_, failed_metric_);
    return;
  }
  bool log_drop = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (static_cast<int64_t>(queue_.size()) >= options_.queue_capacity) {
      queue_.pop_front();
      Count(dropped_, dropped_metric_);
      log_drop = !dropping_;
      dropping_ = true;
    }
    queue_.push_back(std::move(body));
  }
  wake_.notify_one();
  if (log_drop) {
    VIGIL_LOG_WARN("webhook {}: queue full ({} alerts), dropping the oldest", url_->label,
                   options_.queue_capacity);
  }
}

void WebhookDispatcher::Sender::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    std::shared_ptr<const std::string> body = std::move(queue_.front());
    queue_.pop_front();
    in_flight_ = true;
    lock.unlock();
    Deliver(*body);
    lock.lock();
    in_flight_ = false;
    if (queue_.empty()) {
      dropping_ = false;
      idle_.notify_all();
    }
  }
}

void WebhookDispatcher::Sender::Deliver(const std::string& body) {
  std::string why;
  for (int attempt = 1;; ++attempt) {
    const SendOutcome outcome = SendOnce(body, &why);
    if (outcome == SendOutcome::kSent) {
      Count(sent_, sent_metric_);
      return;
    }
    if (outcome == SendOutcome::kGiveUp || attempt >= options_.max_attempts) break;
    Count(retries_, retries_metric_);
    std::unique_lock<std::mutex> lock(mutex_);
    // Waiting on the condition variable lets the destructor cut the backoff short.
    if (wake_.wait_for(lock, Backoff(attempt - 1), [this] { return stopping_; })) return;
  }
  Count(failed_, failed_metric_);
  VIGIL_LOG_WARN("webhook {}: alert not delivered: {}", url_->label, why);
}

SendOutcome WebhookDispatcher::Sender::SendOnce(const std::string& body, std::string* why) {
  const httplib::Headers headers(options_.headers.begin(), options_.headers.end());
  httplib::Result result = client_->Post(url_->path, headers, body, "application/json");
  if (!result) {
    *why = httplib::to_string(result.error());
    return SendOutcome::kRetry;
  }
  const int status = result->status;
  if (status >= 200 && status < 300) return SendOutcome::kSent;
  *why = "HTTP " + std::to_string(status);
  // 429 and 5xx are the receiver's passing trouble; other answers will not change on retry.
  return status == 429 || status >= 500 ? SendOutcome::kRetry : SendOutcome::kGiveUp;
}

std::chrono::milliseconds WebhookDispatcher::Sender::Backoff(int retry) {
  // +-20% jitter keeps many senders that failed together from retrying in lockstep.
  constexpr double kJitter = 0.2;
  const double base = std::min(static_cast<double>(options_.initial_backoff.count()) *
                                   std::pow(options_.backoff_factor, retry),
                               static_cast<double>(options_.max_backoff.count()));
  std::uniform_real_distribution<double> jitter(1.0 - kJitter, 1.0 + kJitter);
  return std::chrono::milliseconds(std::llround(base * jitter(jitter_rng_)));
}

bool WebhookDispatcher::Sender::WaitIdle(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mutex_);
  return idle_.wait_until(lock, deadline, [this] { return queue_.empty() && !in_flight_; });
}

void WebhookDispatcher::Sender::AddStats(WebhookStats* stats) {
  stats->sent += sent_.load();
  stats->failed += failed_.load();
  stats->dropped += dropped_.load();
  stats->retries += retries_.load();
  std::lock_guard<std::mutex> lock(mutex_);
  stats->queued += static_cast<int64_t>(queue_.size());
}

WebhookDispatcher::WebhookDispatcher(std::vector<WebhookOptions> hooks, MetricsRegistry* metrics) {
  for (WebhookOptions& hook : hooks) {
    senders_.push_back(std::make_unique<Sender>(std::move(hook), metrics));
  }
}

WebhookDispatcher::~WebhookDispatcher() = default;

void WebhookDispatcher::Enqueue(const AlertRow& alert) {
  if (senders_.empty()) return;
  // Serialised once and shared by every queue.
  auto body = std::make_shared<const std::string>(
      AlertJson(alert).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  for (const auto& sender : senders_) sender->Push(body);
}

bool WebhookDispatcher::Drain(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool drained = true;
  for (const auto& sender : senders_) drained = sender->WaitIdle(deadline) && drained;
  return drained;
}

WebhookStats WebhookDispatcher::stats() const {
  WebhookStats stats;
  for (const auto& sender : senders_) sender->AddStats(&stats);
  return stats;
}

}  // namespace vigil
