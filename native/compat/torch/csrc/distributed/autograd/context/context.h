// Debian's libtorch-dev ships c10d's reducer.hpp but not the distributed-autograd header it
// includes. The Reducer only holds a pointer to that context and names its callback type, so these
// two declarations, identical to libtorch 1.13's, let reducer.hpp compile with the real layout.
// The build adds this folder to the include path only when the real header is missing.
#pragma once
#include <ATen/ATen.h>

#include <functional>
#include <memory>

namespace torch {
namespace distributed {
namespace autograd {

class DistAutogradContext {
 public:
  using GradCallback = std::function<bool(at::Tensor&)>;
};
using ContextPtr = std::shared_ptr<DistAutogradContext>;

}  // namespace autograd
}  // namespace distributed
}  // namespace torch
