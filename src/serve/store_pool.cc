// StorePool: a mutex, a condition variable and a stack of idle connections; the state is
// shared with the leases so a lease may outlive the pool (see store_pool.h).
#include "vigil/serve/store_pool.h"

#include <condition_variable>
#include <mutex>
#include <utility>
#include <vector>

namespace vigil {

// The pool's state, shared by the pool and its leases so that either may go first.
struct StorePool::Lease::Shared {
  std::string url;         // what connections are opened with (may hold a password)
  std::string masked_url;  // what url() shows
  int max_connections = 1;
  Opener opener;

  mutable std::mutex mutex;
  std::condition_variable returned;  // an idle connection or a free slot appeared
  // Idle connections; the back was returned last and is handed out first.
  std::vector<std::unique_ptr<Store>> idle;  // guarded by mutex
  int open = 0;                              // idle + leased + being opened; guarded by mutex

  // Takes an idle connection, or reserves a slot for a new one (returns null), waiting
  // while neither is possible.
  std::unique_ptr<Store> TakeOrReserve() {
    std::unique_lock<std::mutex> lock(mutex);
    returned.wait(lock, [this] { return !idle.empty() || open < max_connections; });
    if (!idle.empty()) {
      std::unique_ptr<Store> store = std::move(idle.back());
      idle.pop_back();
      return store;
    }
    ++open;
    return nullptr;
  }

  // Gives a slot back: `store` becomes idle, or (null: discarded or failed to open) the
  // slot is free for a new connection.
  void Give(std::unique_ptr<Store> store) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (store != nullptr) {
        idle.push_back(std::move(store));
      } else {
        --open;
      }
    }
    returned.notify_one();
  }
};

StorePool::Lease::Lease(std::shared_ptr<Shared> pool, std::unique_ptr<Store> store)
    : pool_(std::move(pool)), store_(std::move(store)) {}

StorePool::Lease::Lease(Lease&& other) noexcept
    : pool_(std::move(other.pool_)), store_(std::move(other.store_)), discard_(other.discard_) {}

StorePool::Lease& StorePool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    pool_ = std::move(other.pool_);
    store_ = std::move(other.store_);
    discard_ = other.discard_;
  }
  return *this;
}

StorePool::Lease::~Lease() { Release(); }

void StorePool::Lease::Release() {
  if (pool_ == nullptr || store_ == nullptr) return;
  // A discarded connection is closed before its slot is offered, so the count of open
  // connections never exceeds the maximum, not even for a moment.
  if (discard_) store_.reset();
  pool_->Give(std::move(store_));
  pool_.reset();
  discard_ = false;
}

Result<StorePool> StorePool::Open(std::string url, int max_connections,
                                  const StoreOptions& options) {
  Opener opener = [options](const std::string& target) { return OpenStore(target, options); };
  return Open(std::move(url), max_connections, std::move(opener));
}

Result<StorePool> StorePool::Open(std::string url, int max_connections, Opener opener) {
  if (max_connections < 1) {
    return InvalidArgument("store pool: max_connections must be >= 1, got " +
                           std::to_string(max_connections));
  }
  if (!opener) return InvalidArgument("store pool: no opener given");
  auto shared = std::make_shared<Lease::Shared>();
  shared->url = std::move(url);
  shared->max_connections = max_connections;
  shared->opener = std::move(opener);
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Store> first, shared->opener(shared->url));
  if (first == nullptr) return DatabaseError("store pool: the opener returned no store");
  shared->masked_url = first->url();
  shared->open = 1;
  shared->idle.push_back(std::move(first));
  return StorePool(std::move(shared));
}

StorePool::StorePool(std::shared_ptr<Lease::Shared> shared) : shared_(std::move(shared)) {}
StorePool::StorePool(StorePool&&) noexcept = default;
StorePool& StorePool::operator=(StorePool&&) noexcept = default;
StorePool::~StorePool() = default;

Result<StorePool::Lease> StorePool::Acquire() {
  std::unique_ptr<Store> store = shared_->TakeOrReserve();
  if (store != nullptr) return Lease(shared_, std::move(store));
  // Opened outside the lock: connecting and migrating can take milliseconds, and other
  // threads may take or return idle connections meanwhile.
  Result<std::unique_ptr<Store>> opened = shared_->opener(shared_->url);
  if (!opened.ok() || *opened == nullptr) {
    shared_->Give(nullptr);
    if (!opened.ok()) return opened.status().WithContext("store pool: opening a connection");
    return DatabaseError("store pool: the opener returned no store");
  }
  return Lease(shared_, std::move(opened).value());
}

Status StorePool::Ping() {
  VIGIL_ASSIGN_OR_RETURN(Lease lease, Acquire());
  Result<int> version = lease->SchemaVersion();
  if (version.ok()) return Status::Ok();
  lease.Discard();
  return version.status().WithContext("store pool: ping");
}

const std::string& StorePool::url() const { return shared_->masked_url; }

int StorePool::max_connections() const { return shared_->max_connections; }

int StorePool::open_connections() const {
  std::lock_guard<std::mutex> lock(shared_->mutex);
  return shared_->open;
}

int StorePool::leased_connections() const {
  std::lock_guard<std::mutex> lock(shared_->mutex);
  return shared_->open - static_cast<int>(shared_->idle.size());
}

}  // namespace vigil
