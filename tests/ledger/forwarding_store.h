// Test helper: a KvStore that forwards get, write, scan and view to a store
// the test keeps (so a ledger can be reopened on it, or a store's default
// methods exercised). multi_get and scan_ranges are KvStore's defaults
// unless a subclass forwards them too.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ledger/kv_store.h"

namespace chipledger::testing {

class ForwardingStore : public KvStore {
 public:
  explicit ForwardingStore(KvStore& inner) : inner_(inner) {}
  Result<std::optional<std::string>> get(Column c, std::string_view k) const override {
    return inner_.get(c, k);
  }
  Status write(const WriteBatch& b, bool sync) override { return inner_.write(b, sync); }
  Status scan(Column c, std::string_view p,
              const std::function<bool(std::string_view, std::string_view)>& fn) const override {
    return inner_.scan(c, p, fn);
  }
  Result<std::unique_ptr<KvView>> view() const override { return inner_.view(); }

 protected:
  KvStore& inner_;
};

}  // namespace chipledger::testing
