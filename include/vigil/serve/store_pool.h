// A pool of Store connections for the HTTP server's and the live runner's threads.
//
// A Store is used by one thread at a time (store.h), so every thread that needs the store
// leases a connection and returns it when the lease ends:
//
//   VIGIL_ASSIGN_OR_RETURN(vigil::StorePool pool, vigil::StorePool::Open("sqlite:x.db", 8));
//   VIGIL_ASSIGN_OR_RETURN(vigil::StorePool::Lease store, pool.Acquire());
//   VIGIL_ASSIGN_OR_RETURN(vigil::Frame bars, store->Query(series, from, to));
//
// Connections are opened lazily up to `max_connections` (>= 1; a server typically uses
// one per HTTP worker plus one for the live runner); Acquire waits for a free one beyond
// that. Idle connections are reused most-recently-returned first, so a lightly loaded pool
// keeps using warm connections (prepared statements, page cache). A connection whose call
// failed with DatabaseError stays usable (the backends roll back their own transactions);
// a caller that suspects the link itself (e.g. a PostgreSQL server restart) calls
// Lease::Discard() so the connection is closed instead of reused. Ping() checks
// reachability for /health and discards the connection it used when that fails.
//
// Errors: Open fails with InvalidArgument for max_connections < 1 and otherwise as
// OpenStore (InvalidArgument for an unknown scheme, DatabaseError when the backend cannot
// connect or migrate). Acquire fails as OpenStore when a new connection cannot be opened;
// the slot is then free again.
// Thread-safety: every StorePool method may be called from any thread; a Lease belongs to
// one thread at a time. A thread must not hold two leases of one pool at once (with all
// connections leased it would wait on itself). Leases may outlive the pool object: the
// shared state lives until the last lease is returned.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "vigil/core/status.h"
#include "vigil/store/store.h"

namespace vigil {

class StorePool {
 public:
  // Opens a new connection to the pool's URL; OpenStore by default. Tests inject their own
  // to count or fail opens. Called without the pool's lock held, possibly concurrently.
  using Opener = std::function<Result<std::unique_ptr<Store>>(const std::string& url)>;

  // Opens (and migrates) the first connection now, so a bad URL fails here.
  // InvalidArgument when max_connections < 1; otherwise as OpenStore.
  static Result<StorePool> Open(std::string url, int max_connections,
                                const StoreOptions& options = {});
  // The same with connections opened by `opener` (which must not be empty).
  static Result<StorePool> Open(std::string url, int max_connections, Opener opener);

  StorePool(StorePool&&) noexcept;
  StorePool& operator=(StorePool&&) noexcept;
  ~StorePool();

  class Lease {
   public:
    Lease(Lease&&) noexcept;
    Lease& operator=(Lease&&) noexcept;
    ~Lease();  // returns the connection to the pool
    Store* operator->() const { return store_.get(); }
    Store& operator*() const { return *store_; }
    // Closes the connection when the lease ends instead of returning it for reuse.
    void Discard() { discard_ = true; }

   private:
    friend class StorePool;
    struct Shared;
    Lease(std::shared_ptr<Shared> pool, std::unique_ptr<Store> store);
    void Release();
    std::shared_ptr<Shared> pool_;
    std::unique_ptr<Store> store_;
    bool discard_ = false;
  };

  // A free connection, a new one when fewer than max_connections exist, else waits.
  // Fails as OpenStore when a new connection cannot be opened.
  Result<Lease> Acquire();
  // OK when a connection answers SchemaVersion(); the error otherwise (and that
  // connection is closed, so the next Acquire opens a fresh one).
  Status Ping();
  // The store's URL with passwords masked (Store::url() of the first connection), for
  // logs and messages; never the secret the pool connects with.
  const std::string& url() const;
  int max_connections() const;
  // Connections open now, leased or idle (<= max_connections); for metrics and tests.
  int open_connections() const;
  // Of those, the ones leased now.
  int leased_connections() const;

 private:
  explicit StorePool(std::shared_ptr<Lease::Shared> shared);
  std::shared_ptr<Lease::Shared> shared_;
};

}  // namespace vigil
