// aplnet's data-parallel engine over libtorch's c10d: the TCPStore rendezvous that torchrun uses,
// ProcessGroupGloo (CPU) or ProcessGroupNCCL (CUDA), and DDP's Reducer for bucketed gradient
// all-reduce overlapped with backward. The build defines APLNET_WITH_C10D only when the libtorch
// it found has c10d and the gloo headers are present; otherwise every entry says why it is missing.
#include "distributed.h"

#include <torch/version.h>

#include <mutex>
#include <sstream>
#include <stdexcept>

#ifdef APLNET_WITH_C10D
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/comm.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>
#ifdef APLNET_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#include <cstdlib>
#include <limits>
#include <numeric>
#endif

namespace aplnet::dist {

#ifndef APLNET_WITH_C10D

#ifndef APLNET_C10D_NOTE
#define APLNET_C10D_NOTE "this libtorch or machine lacks c10d's gloo headers"
#endif
namespace {
[[noreturn]] void missing() {
  throw std::runtime_error(std::string("aplnet was built without distributed support (") + APLNET_C10D_NOTE +
                           "). Install libgloo-dev (bash scripts/setup.sh does) and rebuild with npm run build:native.");
}
}  // namespace
std::string backends() { return ""; }
std::string buildNote() { return APLNET_C10D_NOTE; }
void init(const std::string&, const std::string&, int, int, int, int64_t) { missing(); }
void destroy() {}
bool isInitialized() { return false; }
int rank() { return 0; }
int worldSize() { return 1; }
void storeSet(const std::string&, const std::string&) { missing(); }
std::string storeGet(const std::string&, int64_t) { missing(); }
void allReduce(const std::vector<at::Tensor>&, const std::string&) { missing(); }
void broadcast(const std::vector<at::Tensor>&, int) { missing(); }
at::Tensor allGather(const at::Tensor&) { missing(); }
void barrier() { missing(); }
at::Tensor allReduceSumWithGrad(const at::Tensor&) { missing(); }
void reducerAttach(const std::vector<at::Tensor>&, int64_t) { missing(); }
void reducerPrepareForward() { missing(); }
void reducerPrepareBackward() { missing(); }
void reducerDetach() {}
std::vector<int64_t> reducerBucketBytes() { return {}; }

#else

namespace {

struct World {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroup> group;
  std::unique_ptr<c10d::Reducer> reducer;
  std::vector<int64_t> bucketBytes;
  std::string backend;
  int rank = 0;
  int size = 1;
  bool joining = false;
};
// One world per process. The mutex guards joining and leaving (init runs on a worker thread);
// collectives run on the JS thread, one at a time, as the Reducer's hooks do during backward.
std::mutex gWorldMutex;
// Never destroyed at exit: ProcessGroupGloo's destructor drains its queue, and a queue waiting on a
// dead peer would hold a failing process for the whole timeout. destroy() releases it explicitly.
World& gWorld = *new World();

c10d::ProcessGroup& group() {
  if (gWorld.joining) throw std::runtime_error("the process group is still joining its world; await initProcessGroup first");
  if (!gWorld.group) throw std::runtime_error("this process has not joined a process group (call initProcessGroup first)");
  return *gWorld.group;
}

// c10d's messages carry a C++ backtrace after this line; the JS error keeps the sentence.
std::string withoutBacktrace(const std::exception& e) {
  std::string message = e.what();
  auto cut = message.find("\nException raised from");
  if (cut != std::string::npos) message.resize(cut);
  return message;
}

std::string where() {
  std::ostringstream out;
  out << "rank " << gWorld.rank << " of " << gWorld.size << " (" << gWorld.backend << ")";
  return out.str();
}

// Runs a collective to completion. Gloo reports a peer that stopped as a closed connection; the
// message adds what that usually means, so the log of a surviving rank points at the others.
void finish(const c10::intrusive_ptr<c10d::Work>& work, const char* what) {
  try {
    work->wait();
  } catch (const std::exception& e) {
    auto message = withoutBacktrace(e);
    throw std::runtime_error(std::string(what) + " on " + where() + " failed: " + message +
                             " (another rank stopped or timed out; its own log says why)");
  }
}

#if TORCH_VERSION_MAJOR >= 2
// libtorch 2 splits the process group (dispatch) from its backends (the transports).
c10::intrusive_ptr<c10d::ProcessGroup> wrapBackend(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                                   const c10::intrusive_ptr<c10d::Backend>& backend, c10::DeviceType device,
                                                   c10d::ProcessGroup::BackendType type) {
#if TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR < 6
  auto pg = c10::make_intrusive<c10d::ProcessGroup>(store, rank, size, c10::make_intrusive<c10d::ProcessGroup::Options>(backend->getBackendName()));
#else
  auto pg = c10::make_intrusive<c10d::ProcessGroup>(store, rank, size);
#endif
  pg->setDefaultBackend(type);
  pg->setBackend(device, type, backend);
  return pg;
}
#endif

std::shared_ptr<gloo::transport::Device> glooDevice(const std::string& host) {
  // As torch.distributed: GLOO_SOCKET_IFNAME names the interface; else a loopback rendezvous
  // stays on loopback, and any other binds to this machine's hostname.
  if (const char* iface = std::getenv("GLOO_SOCKET_IFNAME"); iface && *iface) {
    return c10d::ProcessGroupGloo::createDeviceForInterface(iface);
  }
  if (host == "127.0.0.1" || host == "localhost" || host == "::1") return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

c10::intrusive_ptr<c10d::ProcessGroup> makeGroup(const std::string& backend, const std::string& host,
                                                 const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                                 std::chrono::milliseconds timeout) {
  if (backend == "gloo") {
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    options->devices.push_back(glooDevice(host));
    options->threads = 2;
#if TORCH_VERSION_MAJOR >= 2
    auto gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, options);
    return wrapBackend(store, rank, size, gloo, c10::DeviceType::CPU, c10d::ProcessGroup::BackendType::GLOO);
#else
    return c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, options);
#endif
  }
  if (backend == "nccl") {
#ifdef APLNET_WITH_NCCL
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = timeout;
#if TORCH_VERSION_MAJOR >= 2
    auto nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, options);
    return wrapBackend(store, rank, size, nccl, c10::DeviceType::CUDA, c10d::ProcessGroup::BackendType::NCCL);
#else
    return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, options);
#endif
#else
    throw std::runtime_error("backend \"nccl\" needs aplnet built against a CUDA libtorch with NCCL (LIBTORCH_USE_PYTORCH=1 on a GPU machine); this build has " + backends());
#endif
  }
  throw std::runtime_error("unknown backend \"" + backend + "\": use gloo (CPU) or nccl (CUDA); this build has " + backends());
}

c10d::ReduceOp reduceOp(const std::string& op) {
  if (op == "sum" || op == "avg") return c10d::ReduceOp::SUM;  // Gloo has no AVG: sum, then divide
  if (op == "max") return c10d::ReduceOp::MAX;
  if (op == "min") return c10d::ReduceOp::MIN;
  throw std::runtime_error("unknown reduce op \"" + op + "\": use sum, avg, max or min");
}

// The sum over ranks as an autograd function: y = sum_r x_r on every rank, so dL/dx_r is the sum
// over ranks of dL_q/dy — another all-reduce, in backward. Synchronised batch norm is built on it.
struct AllReduceSumFunction : public torch::autograd::Function<AllReduceSumFunction> {
  static at::Tensor forward(torch::autograd::AutogradContext*, const at::Tensor& x) {
    std::vector<at::Tensor> out{x.detach().clone(at::MemoryFormat::Contiguous)};
    finish(group().allreduce(out), "allReduceSumWithGrad");
    return out[0];
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext*, torch::autograd::variable_list grads) {
    std::vector<at::Tensor> g{grads[0].contiguous().clone()};
    finish(group().allreduce(g), "allReduceSumWithGrad (backward)");
    return {g[0]};
  }
};

}  // namespace

std::string backends() {
#ifdef APLNET_WITH_NCCL
  return "gloo,nccl";
#else
  return "gloo";
#endif
}
std::string buildNote() {
#ifdef APLNET_WITH_NCCL
  return "";
#else
  return "nccl: this build's libtorch has no CUDA NCCL backend";
#endif
}

void init(const std::string& backend, const std::string& host, int port, int rank, int worldSize, int64_t timeoutMs) {
  if (worldSize < 1 || rank < 0 || rank >= worldSize) {
    throw std::runtime_error("rank " + std::to_string(rank) + " is not within a world of " + std::to_string(worldSize));
  }
  if (port < 1 || port > 65535) throw std::runtime_error("port " + std::to_string(port) + " is not a TCP port (1-65535)");
  if (timeoutMs < 1) throw std::runtime_error("the timeout must be positive, got " + std::to_string(timeoutMs) + " ms");
  {
    std::lock_guard<std::mutex> lock(gWorldMutex);
    if (gWorld.group || gWorld.joining) throw std::runtime_error("this process already joined a process group (" + where() + ")");
    gWorld.joining = true;
    gWorld.rank = rank;
    gWorld.size = worldSize;
    gWorld.backend = backend;
  }
  auto timeout = std::chrono::milliseconds(timeoutMs);
  try {
    c10d::TCPStoreOptions options;
    options.port = static_cast<std::uint16_t>(port);
    options.isServer = rank == 0;
    options.numWorkers = static_cast<std::size_t>(worldSize);
    options.waitWorkers = true;
    options.timeout = timeout;
    c10::intrusive_ptr<c10d::Store> store;
    try {
      store = c10::make_intrusive<c10d::TCPStore>(host, options);
    } catch (const std::exception& e) {
      auto message = withoutBacktrace(e);
      throw std::runtime_error("rank " + std::to_string(rank) + " could not meet the other " + std::to_string(worldSize - 1) +
                               " rank(s) at the store " + host + ":" + std::to_string(port) + " within " +
                               std::to_string(timeoutMs / 1000) + " s: " + message);
    }
    c10::intrusive_ptr<c10d::ProcessGroup> pg;
    try {
      pg = makeGroup(backend, host, store, rank, worldSize, timeout);
    } catch (const std::exception& e) {
      auto message = withoutBacktrace(e);
      throw std::runtime_error("rank " + std::to_string(rank) + " reached the store " + host + ":" + std::to_string(port) +
                               " but could not connect its " + backend + " process group to the other " + std::to_string(worldSize - 1) +
                               " rank(s) within " + std::to_string(timeoutMs / 1000) + " s: " + message);
    }
    std::lock_guard<std::mutex> lock(gWorldMutex);
    gWorld.store = store;
    gWorld.group = pg;
    gWorld.joining = false;
  } catch (...) {
    std::lock_guard<std::mutex> lock(gWorldMutex);
    gWorld = World{};
    throw;
  }
}

void destroy() {
  std::lock_guard<std::mutex> lock(gWorldMutex);
  if (gWorld.joining) throw std::runtime_error("the process group is still joining; wait for initProcessGroup before leaving");
  gWorld.reducer.reset();
  gWorld = World{};
}

bool isInitialized() { return static_cast<bool>(gWorld.group) && !gWorld.joining; }
int rank() { return isInitialized() ? gWorld.rank : 0; }
int worldSize() { return isInitialized() ? gWorld.size : 1; }

void storeSet(const std::string& key, const std::string& value) {
  group();
  gWorld.store->set(key, std::vector<uint8_t>(value.begin(), value.end()));
}

std::string storeGet(const std::string& key, int64_t timeoutMs) {
  c10::intrusive_ptr<c10d::Store> store;
  {
    std::lock_guard<std::mutex> lock(gWorldMutex);
    group();
    store = gWorld.store;
  }
  try {
    store->wait({key}, std::chrono::milliseconds(timeoutMs));
  } catch (const std::exception& e) {
    auto message = withoutBacktrace(e);
    throw std::runtime_error("waited " + std::to_string(timeoutMs / 1000) + " s for \"" + key + "\" from the other ranks: " + message);
  }
  auto bytes = store->get(key);
  return std::string(bytes.begin(), bytes.end());
}

void allReduce(const std::vector<at::Tensor>& tensors, const std::string& op) {
  if (tensors.empty()) return;
  auto reduce = reduceOp(op);
  for (const auto& t : tensors) {
    if (t.scalar_type() != tensors[0].scalar_type() || t.device() != tensors[0].device()) {
      throw std::runtime_error("allReduce needs tensors of one dtype and device");
    }
  }
  at::NoGradGuard noGrad;
  // One flat buffer: one message per call instead of one per tensor.
  std::vector<at::Tensor> flat{tensors.size() == 1 && tensors[0].is_contiguous() ? tensors[0] : at::cat(c10::fmap(tensors, [](const at::Tensor& t) { return t.reshape({-1}); }))};
  c10d::AllreduceOptions options;
  options.reduceOp = reduce;
  finish(group().allreduce(flat, options), "allReduce");
  if (op == "avg") flat[0].div_(gWorld.size);
  if (flat[0].data_ptr() == tensors[0].data_ptr() && tensors.size() == 1) return;
  int64_t offset = 0;
  for (const auto& t : tensors) {
    auto n = t.numel();
    const_cast<at::Tensor&>(t).copy_(flat[0].narrow(0, offset, n).view(t.sizes()));
    offset += n;
  }
}

void broadcast(const std::vector<at::Tensor>& tensors, int src) {
  if (tensors.empty()) return;
  if (src < 0 || src >= gWorld.size) throw std::runtime_error("broadcast source rank " + std::to_string(src) + " is not in a world of " + std::to_string(gWorld.size));
  at::NoGradGuard noGrad;
  group();
  try {
    // DDP's own routine: flattens into buffers of up to 256 MB and copies the results back.
    c10d::broadcast_coalesced(gWorld.group, tensors, 256 << 20, src);
  } catch (const std::exception& e) {
    auto message = withoutBacktrace(e);
    throw std::runtime_error("broadcast on " + where() + " failed: " + message + " (another rank stopped or timed out; its own log says why)");
  }
}

at::Tensor allGather(const at::Tensor& t) {
  at::NoGradGuard noGrad;
  auto input = t.contiguous();
  std::vector<std::vector<at::Tensor>> outputs(1);
  for (int r = 0; r < group().getSize(); ++r) outputs[0].push_back(at::empty_like(input));
  std::vector<at::Tensor> inputs{input};
  finish(group().allgather(outputs, inputs), "allGather");
  return at::stack(outputs[0], 0);
}

void barrier() {
  c10::intrusive_ptr<c10d::ProcessGroup> pg;
  {
    std::lock_guard<std::mutex> lock(gWorldMutex);
    group();
    pg = gWorld.group;
  }
  finish(pg->barrier(), "barrier");
}

at::Tensor allReduceSumWithGrad(const at::Tensor& t) {
  group();
  return AllReduceSumFunction::apply(t);
}

void reducerAttach(const std::vector<at::Tensor>& params, int64_t bucketCapBytes) {
  group();
  if (gWorld.reducer) throw std::runtime_error("a Reducer is already attached in this process; detach it first");
  if (params.empty()) throw std::runtime_error("reducerAttach needs the model's parameters");
  for (size_t i = 0; i < params.size(); ++i) {
    if (!params[i].requires_grad() || !params[i].is_leaf()) throw std::runtime_error("parameter " + std::to_string(i) + " is not a leaf that requires grad");
  }
  if (bucketCapBytes < 1) throw std::runtime_error("the bucket cap must be positive, got " + std::to_string(bucketCapBytes));
  // As DDP does: one bucket for the first step, then rebuild_buckets() groups the gradients by the
  // order they arrived in (first bucket 1 MB, the rest up to the cap), so buckets fill early.
  std::vector<size_t> all(params.size());
  std::iota(all.begin(), all.end(), 0);
  gWorld.reducer = std::make_unique<c10d::Reducer>(
      params, std::vector<std::vector<size_t>>{all}, std::vector<size_t>{std::numeric_limits<size_t>::max()}, gWorld.group,
      std::vector<bool>(params.size(), false), bucketCapBytes, /*find_unused_parameters=*/false,
      /*gradient_as_bucket_view=*/false, std::unordered_map<size_t, std::string>{}, c10d::kDefaultFirstBucketBytes);
  int64_t total = 0;
  for (const auto& p : params) total += p.numel() * p.element_size();
  gWorld.bucketBytes = {total};
}

void reducerPrepareForward() {
  if (!gWorld.reducer) throw std::runtime_error("no Reducer is attached (reducerAttach first)");
  if (gWorld.reducer->rebuild_buckets()) {
    gWorld.bucketBytes.clear();
    for (const auto& bucket : gWorld.reducer->get_grad_buckets(/*return_zero_tensors=*/true)) {
      gWorld.bucketBytes.push_back(bucket.getBuffer().numel() * bucket.getBuffer().element_size());
    }
  }
  gWorld.reducer->prepare_for_forward();
}

void reducerPrepareBackward() {
  if (!gWorld.reducer) throw std::runtime_error("no Reducer is attached (reducerAttach first)");
  gWorld.reducer->prepare_for_backward({});
}

void reducerDetach() { gWorld.reducer.reset(); }

std::vector<int64_t> reducerBucketBytes() { return gWorld.bucketBytes; }

#endif

}  // namespace aplnet::dist
