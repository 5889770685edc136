// Webhooks (webhook.h) against a real HTTP server on a free loopback port: the body sent,
// retries on 5xx / 429 / connection errors, no retry on other 4xx, the bounded queue, and
// Enqueue never waiting for the network.
#include "vigil/serve/webhook.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vigil {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Generous: these only bound a broken build, they are not timing assertions.
constexpr seconds kEventually{30};

// An HTTP server on 127.0.0.1:<free port> answering POST /alerts with answer(n) for its
// n-th request (1-based); with stall(), requests wait until release().
class AlertReceiver {
 public:
  explicit AlertReceiver(std::function<int(int)> answer = [](int) { return 200; })
      : answer_(std::move(answer)) {
    server_.Post("/alerts", [this](const httplib::Request& request, httplib::Response& response) {
      std::unique_lock<std::mutex> lock(mutex_);
      requests_.push_back(request);
      const int n = static_cast<int>(requests_.size());
      changed_.notify_all();
      changed_.wait(lock, [this] { return !stalled_; });
      response.status = answer_(n);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the listen loop runs would be lost (and the join would hang).
    while (!server_.is_running()) std::this_thread::sleep_for(milliseconds(1));
  }
  ~AlertReceiver() {
    Release();
    server_.stop();
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/alerts"; }
  void Stall() {
    std::lock_guard<std::mutex> lock(mutex_);
    stalled_ = true;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mutex_);
    stalled_ = false;
    changed_.notify_all();
  }
  bool WaitForRequests(size_t n) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, kEventually, [&] { return requests_.size() >= n; });
  }
  std::vector<httplib::Request> requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }
  std::vector<int64_t> AlertIds() {
    std::vector<int64_t> ids;
    for (const httplib::Request& request : requests()) {
      ids.push_back(nlohmann::json::parse(request.body).at("alert_id").get<int64_t>());
    }
    return ids;
  }

 private:
  std::function<int(int)> answer_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<httplib::Request> requests_;
  bool stalled_ = false;
};

WebhookOptions Hook(const std::string& url) {
  WebhookOptions hook;
  hook.url = url;
  hook.initial_backoff = milliseconds(1);
  hook.max_backoff = milliseconds(5);
  return hook;
}

AlertRow Alert(int64_t id) {
  AlertRow alert;
  alert.alert_id = id;
  alert.rule = "crash_risk";
  alert.instrument = "sim:BTC-PERP";
  alert.ts = Timestamp::FromSeconds(1'704'067'500);
  alert.severity = "critical";
  alert.score = 82.5;
  alert.message = "crash_risk: risk v3 probability 0.825 >= 0.7";
  alert.features_json = R"({"values":{"rsi":71.5}})";
  alert.model_name = "risk";
  alert.model_version = 3;
  alert.created_at = Timestamp::FromSeconds(1'704'067'501);
  return alert;
}

TEST(AlertJsonTest, CarriesEveryFieldWithNullsForAbsentValues) {
  const nlohmann::json json = AlertJson(Alert(7));
  EXPECT_EQ(json.at("alert_id"), 7);
  EXPECT_EQ(json.at("ts"), "2024-01-01T00:05:00.000Z");
  EXPECT_EQ(json.at("score"), 82.5);
  EXPECT_EQ(json.at("model_version"), 3);
  EXPECT_EQ(json.at("features"), nlohmann::json::parse(R"({"values":{"rsi":71.5}})"));
  AlertRow bare = Alert(8);
  bare.score = std::nan("");
  bare.model_name.clear();
  bare.model_version.reset();
  bare.features_json.clear();
  const nlohmann::json nulls = AlertJson(bare);
  for (const char* key : {"score", "model", "model_version", "features"}) {
    EXPECT_TRUE(nulls.at(key).is_null()) << key;
  }
}

TEST(WebhookOptionsTest, ValidateNamesTheField) {
  EXPECT_TRUE(Hook("https://hooks.example.com/x?token=1").Validate().ok());
  EXPECT_TRUE(Hook("http://[::1]:8080/x").Validate().ok());
  auto field_of = [](const WebhookOptions& hook) {
    const std::string message = hook.Validate().message();
    return message.substr(0, message.find(':'));
  };
  EXPECT_EQ(field_of(Hook("ftp://example.com/")), "url");
  EXPECT_EQ(field_of(Hook("http:///path")), "url");
  EXPECT_EQ(field_of(Hook("http://host:99999/")), "url");
  WebhookOptions hook = Hook("http://host/");
  hook.headers["X-Evil"] = "a\r\nHost: other";
  EXPECT_EQ(field_of(hook), "headers");
  hook = Hook("http://host/");
  hook.max_attempts = 0;
  EXPECT_EQ(field_of(hook), "max_attempts");
  hook = Hook("http://host/");
  hook.backoff_factor = 0.5;
  EXPECT_EQ(field_of(hook), "backoff_factor");
  hook = Hook("http://host/");
  hook.queue_capacity = 0;
  EXPECT_EQ(field_of(hook), "queue_capacity");
}

TEST(WebhookDispatcherTest, PostsTheAlertJsonWithHeadersToEveryHook) {
  AlertReceiver first, second;
  MetricsRegistry metrics;
  WebhookOptions hook = Hook(first.url() + "?token=secret");
  hook.headers["X-Vigil-Token"] = "abc";
  WebhookDispatcher dispatcher({hook, Hook(second.url())}, &metrics);
  dispatcher.Enqueue(Alert(1));
  ASSERT_TRUE(dispatcher.Drain(kEventually));
  for (AlertReceiver* receiver : {&first, &second}) {
    ASSERT_EQ(receiver->requests().size(), 1u);
    const httplib::Request request = receiver->requests()[0];
    EXPECT_EQ(nlohmann::json::parse(request.body), AlertJson(Alert(1)));
    EXPECT_EQ(request.get_header_value("Content-Type"), "application/json");
  }
  EXPECT_EQ(first.requests()[0].get_header_value("X-Vigil-Token"), "abc");
  EXPECT_EQ(first.requests()[0].get_param_value("token"), "secret");
  const WebhookStats stats = dispatcher.stats();
  EXPECT_EQ(stats.sent, 2);
  EXPECT_EQ(stats.failed + stats.retries + stats.dropped + stats.queued, 0);
  // The metrics label leaves the query (and its token) out.
  EXPECT_EQ(
      metrics.GetCounter("vigil_webhook_sent_total", "Alerts delivered", {{"url", first.url()}})
          .value(),
      1.0);
  EXPECT_EQ(metrics.Render().find("secret"), std::string::npos);
}

TEST(WebhookDispatcherTest, RetriesServerErrorsAndTooManyRequests) {
  AlertReceiver receiver([](int n) { return n <= 2 ? 503 : 200; });
  AlertReceiver limited([](int n) { return n == 1 ? 429 : 204; });
  WebhookDispatcher dispatcher({Hook(receiver.url()), Hook(limited.url())}, nullptr);
  dispatcher.Enqueue(Alert(1));
  ASSERT_TRUE(dispatcher.Drain(kEventually));
  EXPECT_EQ(receiver.requests().size(), 3u);
  EXPECT_EQ(limited.requests().size(), 2u);
  const WebhookStats stats = dispatcher.stats();
  EXPECT_EQ(stats.sent, 2);
  EXPECT_EQ(stats.retries, 3);
  EXPECT_EQ(stats.failed, 0);
}

TEST(WebhookDispatcherTest, OtherClientErrorsAreNotRetried) {
  AlertReceiver receiver([](int) { return 400; });
  MetricsRegistry metrics;
  WebhookDispatcher dispatcher({Hook(receiver.url())}, &metrics);
  dispatcher.Enqueue(Alert(1));
  ASSERT_TRUE(dispatcher.Drain(kEventually));
  EXPECT_EQ(receiver.requests().size(), 1u);
  EXPECT_EQ(dispatcher.stats().failed, 1);
  EXPECT_EQ(dispatcher.stats().retries, 0);
  EXPECT_EQ(metrics
                .GetCounter("vigil_webhook_failed_total",
                            "Alerts given up after retries or refused", {{"url", receiver.url()}})
                .value(),
            1.0);
}

TEST(WebhookDispatcherTest, AnUnreachableHookFailsAfterMaxAttempts) {
  std::string closed_url;
  {
    AlertReceiver gone;  // its port is free (nobody listening) once it is destroyed
    closed_url = gone.url();
  }
  WebhookOptions hook = Hook(closed_url);
  hook.max_attempts = 3;
  WebhookDispatcher dispatcher({hook}, nullptr);
  dispatcher.Enqueue(Alert(1));
  ASSERT_TRUE(dispatcher.Drain(kEventually));
  EXPECT_EQ(dispatcher.stats().failed, 1);
  EXPECT_EQ(dispatcher.stats().retries, 2);
  EXPECT_EQ(dispatcher.stats().sent, 0);
}

TEST(WebhookDispatcherTest, AFullQueueDropsItsOldestAlert) {
  AlertReceiver receiver;
  receiver.Stall();
  WebhookOptions hook = Hook(receiver.url());
  hook.queue_capacity = 2;
  WebhookDispatcher dispatcher({hook}, nullptr);
  dispatcher.Enqueue(Alert(1));
  ASSERT_TRUE(receiver.WaitForRequests(1));  // alert 1 is in flight, the server holds it
  for (int64_t id = 2; id <= 5; ++id) dispatcher.Enqueue(Alert(id));
  EXPECT_EQ(dispatcher.stats().dropped, 2);
  EXPECT_EQ(dispatcher.stats().queued, 2);
  receiver.Release();
  ASSERT_TRUE(dispatcher.Drain(kEventually));
  EXPECT_EQ(receiver.AlertIds(), (std::vector<int64_t>{1, 4, 5}));
  EXPECT_EQ(dispatcher.stats().sent, 3);
}

TEST(WebhookDispatcherTest, EnqueueReturnsWhileTheServerIsStalled) {
  AlertReceiver receiver;
  receiver.Stall();
  WebhookOptions hook = Hook(receiver.url());
  hook.queue_capacity = 10;
  hook.timeout = milliseconds(60'000);
  auto dispatcher = std::make_unique<WebhookDispatcher>(std::vector<WebhookOptions>{hook}, nullptr);
  dispatcher->Enqueue(Alert(0));
  ASSERT_TRUE(receiver.WaitForRequests(1));
  auto enqueued = std::async(std::launch::async, [&] {
    for (int64_t id = 1; id <= 1000; ++id) dispatcher->Enqueue(Alert(id));
  });
  ASSERT_EQ(enqueued.wait_for(kEventually), std::future_status::ready);
  EXPECT_EQ(dispatcher->stats().queued, 10);
  EXPECT_EQ(dispatcher->stats().dropped, 990);
  EXPECT_FALSE(dispatcher->Drain(milliseconds(1)));
  // Destruction does not wait for the stalled send (nor for the queue).
  auto destroyed = std::async(std::launch::async, [&] { dispatcher.reset(); });
  EXPECT_EQ(destroyed.wait_for(kEventually), std::future_status::ready);
}

TEST(WebhookDispatcherTest, AnInvalidHookCountsItsAlertsAsFailed) {
  WebhookDispatcher dispatcher({Hook("not a url")}, nullptr);
  dispatcher.Enqueue(Alert(1));
  EXPECT_TRUE(dispatcher.Drain(milliseconds(1)));
  EXPECT_EQ(dispatcher.stats().failed, 1);
}

}  // namespace
}  // namespace vigil
