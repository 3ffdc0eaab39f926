// aplnet's N-API shim over libtorch, in the manner of tch-rs's torch_api.cpp:
// opaque tensor handles, one small function per op, and every body wrapped so that a C++
// exception becomes a JS Error naming the op and its inputs' shapes. It knows nothing of models.
#include <napi.h>
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include "boundary.generated.h"
#include "distributed.h"

#include <cmath>
#include <cstdlib>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <cstring>
#include <functional>
#include <mutex>

#include <sstream>
#include <string>
#include <vector>

// libtorch 2.4 made autocast's state per device type, and c10::optional an alias of std::optional.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define APLNET_TORCH_2_4 1
#endif

namespace {

// A handle owns one at::Tensor. dispose() resets the tensor early; the external's finalizer
// deletes the box whenever V8 collects the handle, so a forgotten tensor is still freed.
struct TensorBox {
  // Identifies aplnet's externals. Cheaper than napi_type_tag_object, which adds a private
  // property to every handle and cost about a third of a small op's time.
  static constexpr uint64_t kMagic = 0x6170'6c6e'6574'5442ULL;
  uint64_t magic = kMagic;
  at::Tensor tensor;
  int64_t reportedBytes = 0;
};
// Per thread: each worker thread has its own V8 heap, and its finalizers run on that thread.
thread_local int64_t gLiveTensors = 0;
thread_local int64_t gLiveBytes = 0;
// V8 is told about native bytes in steps of this size: one call per tiny tensor would cost more
// than the op itself, and GC pressure only needs to be right to within a megabyte.
constexpr int64_t kReportStep = 1 << 20;
thread_local int64_t gUnreportedBytes = 0;

void reportBytes(Napi::Env env, int64_t delta) {
  gUnreportedBytes += delta;
  if (gUnreportedBytes >= kReportStep || gUnreportedBytes <= -kReportStep) {
    // The C call, not node-addon-api's wrapper: this also runs inside finalizers, which must not
    // throw (a throwing finalizer aborts the process, e.g. while a worker thread is terminated).
    int64_t adjusted = 0;
    napi_adjust_external_memory(env, gUnreportedBytes, &adjusted);
    gUnreportedBytes = 0;
  }
}

int64_t bytesOf(const at::Tensor& t) {
  return t.defined() && t.device().is_cpu() ? static_cast<int64_t>(t.numel() * t.element_size()) : 0;
}

void releaseBox(Napi::Env env, TensorBox* box) {
  if (!box->tensor.defined()) return;
  box->tensor.reset();
  gLiveTensors -= 1;
  gLiveBytes -= box->reportedBytes;
  reportBytes(env, -box->reportedBytes);
  box->reportedBytes = 0;
}

Napi::Value wrap(Napi::Env env, at::Tensor tensor) {
  if (!tensor.defined()) return env.Null();
  auto* box = new TensorBox{TensorBox::kMagic, std::move(tensor), 0};
  box->reportedBytes = bytesOf(box->tensor);
  gLiveTensors += 1;
  gLiveBytes += box->reportedBytes;
  reportBytes(env, box->reportedBytes);
  auto external = Napi::External<TensorBox>::New(env, box, [](Napi::Env e, TensorBox* b) {
    releaseBox(e, b);
    delete b;
  });
  return external;
}

std::string describe(const at::Tensor& t) {
  if (!t.defined()) return "(disposed)";
  std::ostringstream out;
  out << "[";
  for (int64_t i = 0; i < t.dim(); ++i) out << (i ? "," : "") << t.size(i);
  out << "] " << c10::toString(t.scalar_type()) << " " << t.device();
  return out.str();
}

// Shapes of every tensor among the arguments, for error messages.
std::string describeArgs(const Napi::CallbackInfo& info) {
  std::ostringstream out;
  bool first = true;
  auto add = [&](const Napi::Value& v) {
    if (!v.IsExternal()) return;
    auto* box = v.As<Napi::External<TensorBox>>().Data();
    if (!box || box->magic != TensorBox::kMagic) return;
    out << (first ? "" : ", ") << describe(box->tensor);
    first = false;
  };
  for (size_t i = 0; i < info.Length(); ++i) {
    if (info[i].IsArray()) {
      auto arr = info[i].As<Napi::Array>();
      for (uint32_t j = 0; j < arr.Length() && j < 8; ++j) add(arr.Get(j));
    } else {
      add(info[i]);
    }
  }
  return first ? "" : " (inputs: " + out.str() + ")";
}

struct ArgError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

TensorBox* boxArg(const Napi::Value& v, const char* what) {
  TensorBox* box = v.IsExternal() ? v.As<Napi::External<TensorBox>>().Data() : nullptr;
  if (!box || box->magic != TensorBox::kMagic) throw ArgError(std::string(what) + " is not a tensor");
  return box;
}

at::Tensor& tensorArg(const Napi::CallbackInfo& info, size_t i) {
  TensorBox* box = boxArg(info[i], ("argument " + std::to_string(i)).c_str());
  if (!box->tensor.defined()) throw ArgError("argument " + std::to_string(i) + " is a disposed tensor");
  return box->tensor;
}

at::Tensor optTensorArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || info[i].IsNull() || info[i].IsUndefined()) return at::Tensor();
  return tensorArg(info, i);
}

std::vector<at::Tensor> tensorListArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsArray()) throw ArgError("argument " + std::to_string(i) + " must be an array of tensors");
  auto arr = info[i].As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(arr.Length());
  for (uint32_t j = 0; j < arr.Length(); ++j) {
    Napi::Value v = arr.Get(j);
    if (v.IsNull() || v.IsUndefined()) {
      out.emplace_back();
      continue;
    }
    TensorBox* box = boxArg(v, "list element");
    if (!box->tensor.defined()) throw ArgError("element " + std::to_string(j) + " is a disposed tensor");
    out.push_back(box->tensor);
  }
  return out;
}

std::vector<int64_t> intsArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsArray()) throw ArgError("argument " + std::to_string(i) + " must be an array of integers");
  auto arr = info[i].As<Napi::Array>();
  std::vector<int64_t> out(arr.Length());
  for (uint32_t j = 0; j < arr.Length(); ++j) {
    Napi::Value v = arr.Get(j);
    if (!v.IsNumber()) throw ArgError("argument " + std::to_string(i) + " must hold only numbers");
    out[j] = v.As<Napi::Number>().Int64Value();
  }
  return out;
}

int64_t intArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsNumber()) throw ArgError("argument " + std::to_string(i) + " must be a number");
  return info[i].As<Napi::Number>().Int64Value();
}

double numArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsNumber()) throw ArgError("argument " + std::to_string(i) + " must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

bool boolArg(const Napi::CallbackInfo& info, size_t i) { return info[i].ToBoolean().Value(); }

std::string strArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsString()) throw ArgError("argument " + std::to_string(i) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

// The dtype names, sizes and scalar types come from native/ops.json, the same table that
// src/torch's dtypes and safetensors codes come from.
#define CHECK_ITEM_SIZE(name, type, size) \
  static_assert(sizeof(c10::impl::ScalarTypeToCPPTypeT<type>) == size, "native/ops.json: wrong itemSize for " name);
APLNET_DTYPES(CHECK_ITEM_SIZE)
#undef CHECK_ITEM_SIZE

at::ScalarType dtypeFromName(const std::string& name) {
#define FROM_NAME(str, type, size) if (name == str) return type;
  APLNET_DTYPES(FROM_NAME)
#undef FROM_NAME
  throw ArgError("unknown dtype '" + name + "' (use " APLNET_DTYPE_LIST ")");
}

const char* dtypeName(at::ScalarType t) {
  switch (t) {
#define TO_NAME(str, type, size) case type: return str;
    APLNET_DTYPES(TO_NAME)
#undef TO_NAME
    default: return "unsupported";
  }
}

at::TensorOptions optionsArg(const Napi::CallbackInfo& info, size_t dtypeIndex) {
  return at::TensorOptions().dtype(dtypeFromName(strArg(info, dtypeIndex))).device(at::Device(strArg(info, dtypeIndex + 1)));
}

}  // namespace

// Every op body runs inside OP: argument errors and libtorch's c10::Error both come back to JS as
// an Error that names the op and the shapes it was given, and the process stays alive.
#define OP(name)                                                        \
  static Napi::Value op_##name##_body(const Napi::CallbackInfo& info);  \
  static Napi::Value op_##name(const Napi::CallbackInfo& info) {        \
    try {                                                               \
      return op_##name##_body(info);                                         \
    } catch (const Napi::Error&) {                                      \
      throw;                                                            \
    } catch (const c10::Error& e) {                                     \
      throw Napi::Error::New(info.Env(), std::string(#name) + " failed" + describeArgs(info) + ": " + e.what_without_backtrace()); \
    } catch (const std::exception& e) {                                 \
      throw Napi::Error::New(info.Env(), std::string(#name) + " failed" + describeArgs(info) + ": " + e.what()); \
    }                                                                   \
  }                                                                     \
  static Napi::Value op_##name##_body(const Napi::CallbackInfo& info)

#define RET(expr) return wrap(info.Env(), (expr))
#define T(i) tensorArg(info, i)

// ---- lifetime and introspection ----
OP(dispose) {
  TensorBox* box = boxArg(info[0], "argument 0");
  releaseBox(info.Env(), box);
  return info.Env().Undefined();
}
OP(isDisposed) { return Napi::Boolean::New(info.Env(), !boxArg(info[0], "argument 0")->tensor.defined()); }
OP(shape) {
  auto& t = T(0);
  auto arr = Napi::Array::New(info.Env(), t.dim());
  for (int64_t i = 0; i < t.dim(); ++i) arr.Set(uint32_t(i), Napi::Number::New(info.Env(), double(t.size(i))));
  return arr;
}
OP(dtype) { return Napi::String::New(info.Env(), dtypeName(T(0).scalar_type())); }
OP(device) { return Napi::String::New(info.Env(), T(0).device().str()); }
OP(liveTensors) { return Napi::Number::New(info.Env(), double(gLiveTensors)); }
OP(liveBytes) { return Napi::Number::New(info.Env(), double(gLiveBytes)); }

// ---- creation ----
OP(zeros) { RET(at::zeros(intsArg(info, 0), optionsArg(info, 1))); }
OP(ones) { RET(at::ones(intsArg(info, 0), optionsArg(info, 1))); }
OP(full) { RET(at::full(intsArg(info, 0), numArg(info, 1), optionsArg(info, 2))); }
OP(randn) { RET(at::randn(intsArg(info, 0), optionsArg(info, 1))); }
OP(rand) { RET(at::rand(intsArg(info, 0), optionsArg(info, 1))); }
OP(randint) { RET(at::randint(intArg(info, 0), intArg(info, 1), intsArg(info, 2), optionsArg(info, 3))); }
OP(randperm) { RET(at::randperm(intArg(info, 0), optionsArg(info, 1))); }
OP(arange) { RET(at::arange(numArg(info, 0), numArg(info, 1), numArg(info, 2), optionsArg(info, 3))); }

// fromBuffer(typedArray, shape, dtype): copies the bytes, so JS may reuse its array at once.
OP(fromBuffer) {
  if (!info[0].IsTypedArray()) throw ArgError("data must be a typed array");
  auto arr = info[0].As<Napi::TypedArray>();
  auto shape = intsArg(info, 1);
  auto dtype = dtypeFromName(strArg(info, 2));
  int64_t numel = 1;
  for (auto d : shape) {
    if (d < 0) throw ArgError("shape has a negative dimension");
    numel *= d;
  }
  size_t expected = size_t(numel) * c10::elementSize(dtype);
  if (arr.ByteLength() != expected) {
    throw ArgError("data holds " + std::to_string(arr.ByteLength()) + " bytes but shape needs " +
                   std::to_string(expected) + " bytes of " + dtypeName(dtype));
  }
  auto* data = static_cast<uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
  auto out = at::empty(shape, at::TensorOptions().dtype(dtype));
  if (expected) std::memcpy(out.data_ptr(), data, expected);
  RET(out);
}

// toBuffer(t): a fresh ArrayBuffer with the tensor's values, contiguous, on the CPU.
OP(toBuffer) {
  auto t = T(0).detach().to(at::kCPU).contiguous();
  size_t bytes = size_t(t.numel()) * t.element_size();
  auto buf = Napi::ArrayBuffer::New(info.Env(), bytes);
  if (bytes) std::memcpy(buf.Data(), t.data_ptr(), bytes);
  return buf;
}
OP(item) {
  auto t = T(0);
  if (t.numel() != 1) throw ArgError("item() needs a tensor with one element, got " + describe(t));
  return Napi::Number::New(info.Env(), t.item<double>());
}

// ---- conversion and copies ----
OP(toDevice) { RET(T(0).to(at::Device(strArg(info, 1)), /*non_blocking=*/boolArg(info, 2))); }
OP(toDtype) { RET(T(0).to(dtypeFromName(strArg(info, 1)))); }
OP(clone) { RET(T(0).clone()); }
OP(detach) { RET(T(0).detach()); }
OP(contiguous) { RET(T(0).contiguous()); }
// Memory format: channels-last (NHWC strides, same logical NCHW shape) is what cuDNN's and oneDNN's
// fastest convolutions read, as tensor.to(memory_format=torch.channels_last) gives in PyTorch.
static at::MemoryFormat memoryFormatArg(const std::string& name) {
  if (name == "channels_last") return at::MemoryFormat::ChannelsLast;
  if (name == "contiguous") return at::MemoryFormat::Contiguous;
  throw ArgError("memory format must be 'channels_last' or 'contiguous', got '" + name + "'");
}
OP(contiguousAs) { RET(T(0).contiguous(memoryFormatArg(strArg(info, 1)))); }
OP(isContiguousAs) { return Napi::Boolean::New(info.Env(), T(0).is_contiguous(memoryFormatArg(strArg(info, 1)))); }
// setData(param, source): param.data = source, as Module._apply does: the parameter keeps its
// identity (handles, optimizer references) and takes the source's storage, strides and device.
OP(setData) {
  T(0).set_data(T(1));
  return info.Env().Undefined();
}
OP(copy_) {
  at::NoGradGuard guard;
  T(0).copy_(T(1));
  return info.Env().Undefined();
}

// ---- elementwise ----
#define BINARY(name, fn) OP(name) { RET(fn(T(0), T(1))); }
#define BINARY_SCALAR(name, fn) OP(name) { RET(fn(T(0), at::Scalar(numArg(info, 1)))); }
#define UNARY(name, fn) OP(name) { RET(fn(T(0))); }
BINARY(add, at::add)
BINARY(sub, at::sub)
BINARY(mul, at::mul)
BINARY(div, at::div)
BINARY(pow, at::pow)
BINARY(maximum, at::maximum)
BINARY(minimum, at::minimum)
BINARY_SCALAR(addScalar, at::add)
BINARY_SCALAR(subScalar, at::sub)
BINARY_SCALAR(mulScalar, at::mul)
BINARY_SCALAR(divScalar, at::div)
BINARY_SCALAR(powScalar, at::pow)
OP(rsubScalar) { RET(at::rsub(T(0), at::Scalar(numArg(info, 1)))); }
BINARY(eq, at::eq)
BINARY(ne, at::ne)
BINARY(lt, at::lt)
BINARY(le, at::le)
BINARY(gt, at::gt)
BINARY(ge, at::ge)
BINARY_SCALAR(eqScalar, at::eq)
BINARY_SCALAR(neScalar, at::ne)
BINARY_SCALAR(ltScalar, at::lt)
BINARY_SCALAR(leScalar, at::le)
BINARY_SCALAR(gtScalar, at::gt)
BINARY_SCALAR(geScalar, at::ge)
UNARY(neg, at::neg)
UNARY(exp, at::exp)
UNARY(log, at::log)
UNARY(sqrt, at::sqrt)
UNARY(abs, at::abs)
UNARY(relu, at::relu)
UNARY(sigmoid, at::sigmoid)
UNARY(tanh, at::tanh)
UNARY(logicalNot, at::logical_not)
OP(clamp) {
#ifdef APLNET_TORCH_2_4
  std::optional<at::Scalar> lo, hi;
#else
  c10::optional<at::Scalar> lo, hi;
#endif
  if (info[1].IsNumber()) lo = numArg(info, 1);
  if (info[2].IsNumber()) hi = numArg(info, 2);
  if (!lo && !hi) throw ArgError("clamp needs a min, a max or both");
  RET(at::clamp(T(0), lo, hi));
}
OP(where) { RET(at::where(T(0), T(1), T(2))); }

// ---- linear algebra and neural-network ops ----
OP(matmul) { RET(at::matmul(T(0), T(1))); }
OP(linear) { RET(at::linear(T(0), T(1), optTensorArg(info, 2))); }
// libtorch 1.13 sends small float32 batches (N < 16) of 3×3 convolutions on small feature maps to
// its slow im2col kernel instead of oneDNN: 27.6 ms against 3.5 ms for aplnet-s's convolutions at
// batch 1 on 2 threads (measured in Python PyTorch 1.13 on this machine). Single-image predict,
// serve and explain all run at batch 1, so those go to oneDNN directly; oneDNN's convolution has
// its own backward, so Grad-CAM works through it too.
// Not under CPU autocast: at::conv2d is the op autocast casts, mkldnn_convolution is not.
static bool autocastEnabled(at::DeviceType type);
static bool preferOneDnn(const at::Tensor& x, const at::Tensor& w) {
  return at::hasMKLDNN() && x.device().is_cpu() && x.scalar_type() == at::kFloat && w.scalar_type() == at::kFloat &&
         x.dim() == 4 && x.size(0) < 16 && !autocastEnabled(at::kCPU);
}
OP(conv2d) {
  auto& x = T(0);
  auto& w = T(1);
  auto bias = optTensorArg(info, 2);
  auto stride = intsArg(info, 3), padding = intsArg(info, 4), dilation = intsArg(info, 5);
  auto groups = intArg(info, 6);
  if (preferOneDnn(x, w)) RET(at::mkldnn_convolution(x.contiguous(), w.contiguous(), bias, padding, stride, dilation, groups));
  RET(at::conv2d(x, w, bias, stride, padding, dilation, groups));
}
// batchNorm(x, weight, bias, runningMean, runningVar, training, momentum, eps): in training the
// running statistics are updated in place, as torch.nn.functional.batch_norm does.
OP(batchNorm) {
  RET(at::batch_norm(T(0), optTensorArg(info, 1), optTensorArg(info, 2), optTensorArg(info, 3), optTensorArg(info, 4),
                     boolArg(info, 5), numArg(info, 6), numArg(info, 7), /*cudnn_enabled=*/true));
}
OP(softmax) { RET(at::softmax(T(0), intArg(info, 1))); }
OP(logSoftmax) { RET(at::log_softmax(T(0), intArg(info, 1))); }
OP(maxPool2d) {
  RET(at::max_pool2d(T(0), intsArg(info, 1), intsArg(info, 2), intsArg(info, 3), intsArg(info, 4), boolArg(info, 5)));
}
OP(avgPool2d) {
  RET(at::avg_pool2d(T(0), intsArg(info, 1), intsArg(info, 2), intsArg(info, 3), boolArg(info, 4), boolArg(info, 5)));
}
OP(adaptiveAvgPool2d) { RET(at::adaptive_avg_pool2d(T(0), intsArg(info, 1))); }
OP(adaptiveMaxPool2d) { RET(std::get<0>(at::adaptive_max_pool2d(T(0), intsArg(info, 1)))); }
OP(interpolateBilinear) {
  RET(at::upsample_bilinear2d(T(0), intsArg(info, 1), boolArg(info, 2)));
}
// pad2d(x, [left, right, top, bottom], mode, value): F.pad for NCHW tensors. 'constant' fills with
// value; 'reflect' and 'replicate' extend the border (what Conv2d's padding_mode uses).
OP(pad2d) {
  auto pads = intsArg(info, 1);
  auto mode = strArg(info, 2);
  if (pads.size() != 4) throw ArgError("pads must be [left, right, top, bottom]");
  if (mode == "constant") RET(at::constant_pad_nd(T(0), pads, numArg(info, 3)));
  if (mode == "reflect") RET(at::reflection_pad2d(T(0), pads));
  if (mode == "replicate") RET(at::replication_pad2d(T(0), pads));
  throw ArgError("mode must be 'constant', 'reflect' or 'replicate', got '" + mode + "'");
}
OP(dropout) { RET(at::dropout(T(0), numArg(info, 1), boolArg(info, 2))); }
// crossEntropy(logits, target, weight|null, reduction 0 none / 1 mean / 2 sum, labelSmoothing)
OP(crossEntropy) {
  RET(at::cross_entropy_loss(T(0), T(1), optTensorArg(info, 2), intArg(info, 3), /*ignore_index=*/-100, numArg(info, 4)));
}

// ---- reductions ----
OP(sum) { RET(at::sum(T(0), intsArg(info, 1), boolArg(info, 2))); }
OP(sumAll) { RET(at::sum(T(0))); }
OP(mean) { RET(at::mean(T(0), intsArg(info, 1), boolArg(info, 2))); }
OP(meanAll) { RET(at::mean(T(0))); }
OP(amax) { RET(at::amax(T(0), intsArg(info, 1), boolArg(info, 2))); }
OP(amin) { RET(at::amin(T(0), intsArg(info, 1), boolArg(info, 2))); }
OP(maxDim) {
  auto result = at::max(T(0), intArg(info, 1), boolArg(info, 2));
  auto arr = Napi::Array::New(info.Env(), 2);
  arr.Set(0u, wrap(info.Env(), std::get<0>(result)));
  arr.Set(1u, wrap(info.Env(), std::get<1>(result)));
  return arr;
}
OP(argmax) { RET(at::argmax(T(0), intArg(info, 1), boolArg(info, 2))); }

// ---- shape and indexing ----
OP(reshape) { RET(at::reshape(T(0), intsArg(info, 1))); }
OP(permute) { RET(T(0).permute(intsArg(info, 1))); }
OP(expand) { RET(T(0).expand(intsArg(info, 1))); }
OP(slice) { RET(at::slice(T(0), intArg(info, 1), intArg(info, 2), intArg(info, 3), intArg(info, 4))); }
OP(select) { RET(at::select(T(0), intArg(info, 1), intArg(info, 2))); }
OP(indexSelect) { RET(at::index_select(T(0), intArg(info, 1), T(2))); }
OP(gather) { RET(at::gather(T(0), intArg(info, 1), T(2))); }
OP(oneHot) { RET(at::one_hot(T(0), intArg(info, 1))); }
OP(flip) { RET(at::flip(T(0), intsArg(info, 1))); }
OP(rot90) { RET(at::rot90(T(0), intArg(info, 1), intsArg(info, 2))); }
OP(cat) { RET(at::cat(tensorListArg(info, 0), intArg(info, 1))); }
OP(stack) { RET(at::stack(tensorListArg(info, 0), intArg(info, 1))); }

// ---- autograd ----
OP(setRequiresGrad) {
  T(0).requires_grad_(boolArg(info, 1));
  return info.Env().Undefined();
}
OP(requiresGrad) { return Napi::Boolean::New(info.Env(), T(0).requires_grad()); }
OP(isLeaf) { return Napi::Boolean::New(info.Env(), T(0).is_leaf()); }
OP(retainGrad) {
  T(0).retain_grad();
  return info.Env().Undefined();
}
OP(grad) { RET(T(0).grad()); }
OP(zeroGrad) {
  T(0).mutable_grad().reset();
  return info.Env().Undefined();
}
OP(backward) {
  T(0).backward(optTensorArg(info, 1), /*retain_graph=*/boolArg(info, 2), /*create_graph=*/false);
  return info.Env().Undefined();
}
OP(setGradEnabled) {
  bool previous = at::GradMode::is_enabled();
  at::GradMode::set_enabled(boolArg(info, 0));
  return Napi::Boolean::New(info.Env(), previous);
}
OP(isGradEnabled) { return Napi::Boolean::New(info.Env(), at::GradMode::is_enabled()); }

// ---- optimizers: one call per step over all parameters, the same arithmetic as torch.optim's
// single-tensor (non-foreach) implementations, so results match PyTorch step for step. ----
// sgdStep(params, momentumBuffers, step, lr, momentum, dampening, weightDecay, nesterov)
OP(sgdStep) {
  at::NoGradGuard guard;
  auto params = tensorListArg(info, 0);
  auto buffers = tensorListArg(info, 1);
  int64_t step = intArg(info, 2);
  double lr = numArg(info, 3), momentum = numArg(info, 4), dampening = numArg(info, 5), wd = numArg(info, 6);
  bool nesterov = boolArg(info, 7);
  if (buffers.size() != params.size()) throw ArgError("sgdStep needs one momentum buffer per parameter");
  for (size_t i = 0; i < params.size(); ++i) {
    auto& p = params[i];
    if (!p.grad().defined()) continue;
    auto d = p.grad();
    if (wd != 0) d = d.add(p, wd);
    if (momentum != 0) {
      auto& buf = buffers[i];
      if (step == 1) buf.copy_(d);
      else buf.mul_(momentum).add_(d, 1 - dampening);
      d = nesterov ? d.add(buf, momentum) : buf;
    }
    p.add_(d, -lr);
  }
  return info.Env().Undefined();
}
// adamwStep(params, expAvg, expAvgSq, step, lr, beta1, beta2, eps, weightDecay)
OP(adamwStep) {
  at::NoGradGuard guard;
  auto params = tensorListArg(info, 0);
  auto expAvg = tensorListArg(info, 1);
  auto expAvgSq = tensorListArg(info, 2);
  double step = numArg(info, 3), lr = numArg(info, 4), beta1 = numArg(info, 5), beta2 = numArg(info, 6);
  double eps = numArg(info, 7), wd = numArg(info, 8);
  if (expAvg.size() != params.size() || expAvgSq.size() != params.size()) {
    throw ArgError("adamwStep needs one exp_avg and one exp_avg_sq per parameter");
  }
  double bc1 = 1 - std::pow(beta1, step);
  double bc2Sqrt = std::sqrt(1 - std::pow(beta2, step));
#ifdef APLNET_TORCH_2_4
  // On CUDA, PyTorch 2's default AdamW is its foreach (multi-tensor) form: the same arithmetic in
  // a few kernel launches for all parameters instead of eight per parameter, which is what a small
  // net's step time is made of on a GPU.
  if (!params.empty() && params[0].is_cuda()) {
    std::vector<at::Tensor> ps, gs, ms, vs;
    for (size_t i = 0; i < params.size(); ++i) {
      if (!params[i].grad().defined()) continue;
      ps.push_back(params[i]);
      gs.push_back(params[i].grad());
      ms.push_back(expAvg[i]);
      vs.push_back(expAvgSq[i]);
    }
    if (ps.empty()) return info.Env().Undefined();
    at::_foreach_mul_(ps, at::Scalar(1 - lr * wd));
    at::_foreach_lerp_(ms, gs, at::Scalar(1 - beta1));
    at::_foreach_mul_(vs, at::Scalar(beta2));
    at::_foreach_addcmul_(vs, gs, gs, at::Scalar(1 - beta2));
    auto denom = at::_foreach_sqrt(vs);
    at::_foreach_div_(denom, at::Scalar(bc2Sqrt));
    at::_foreach_add_(denom, at::Scalar(eps));
    at::_foreach_addcdiv_(ps, ms, denom, at::Scalar(-lr / bc1));
    return info.Env().Undefined();
  }
#endif
  for (size_t i = 0; i < params.size(); ++i) {
    auto& p = params[i];
    if (!p.grad().defined()) continue;
    const auto& g = p.grad();
    p.mul_(1 - lr * wd);
    expAvg[i].lerp_(g, 1 - beta1);
    expAvgSq[i].mul_(beta2).addcmul_(g, g, 1 - beta2);
    auto denom = (expAvgSq[i].sqrt() / bc2Sqrt).add_(eps);
    p.addcdiv_(expAvg[i], denom, -lr / bc1);
  }
  return info.Env().Undefined();
}

// ---- runtime: threads, seeds, devices ----
OP(setNumThreads) {
  at::set_num_threads(int(intArg(info, 0)));
  return info.Env().Undefined();
}
OP(getNumThreads) { return Napi::Number::New(info.Env(), at::get_num_threads()); }
OP(manualSeed) {
  at::manual_seed(uint64_t(intArg(info, 0)));
  return info.Env().Undefined();
}
// The CPU generator's state as a uint8 tensor, so a checkpoint can resume the same random stream.
OP(cpuRngGetState) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  RET(at::Tensor(gen.get_state()));
}
OP(cpuRngSetState) {
  auto state = T(0);
  if (state.scalar_type() != at::kByte || state.dim() != 1) throw ArgError("RNG state must be a 1-D uint8 tensor, got " + describe(state));
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state.contiguous());
  return info.Env().Undefined();
}
// ---- autocast: torch.autocast(device_type, dtype)'s __enter__ and __exit__ ----
// A stack per thread of what each enter changed, so exits restore it; leaving the outermost
// region clears the cache of casted weights, as PyTorch does (else the next step would read the
// weights of the step before, cast before the optimizer changed them).
static at::DeviceType autocastDeviceArg(const std::string& name) {
  if (name == "cuda") return at::kCUDA;
  if (name == "cpu") return at::kCPU;
  throw ArgError("autocast device type must be 'cuda' or 'cpu', got '" + name + "'");
}
static bool autocastEnabled(at::DeviceType type) {
#ifdef APLNET_TORCH_2_4
  return at::autocast::is_autocast_enabled(type);
#else
  return type == at::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}
static void setAutocastEnabled(at::DeviceType type, bool enabled) {
#ifdef APLNET_TORCH_2_4
  at::autocast::set_autocast_enabled(type, enabled);
#else
  if (type == at::kCUDA) at::autocast::set_enabled(enabled);
  else at::autocast::set_cpu_enabled(enabled);
#endif
}
static at::ScalarType autocastDtype(at::DeviceType type) {
#ifdef APLNET_TORCH_2_4
  return at::autocast::get_autocast_dtype(type);
#else
  return type == at::kCUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
#endif
}
static void setAutocastDtype(at::DeviceType type, at::ScalarType dtype) {
#ifdef APLNET_TORCH_2_4
  at::autocast::set_autocast_dtype(type, dtype);
#else
  if (type == at::kCUDA) at::autocast::set_autocast_gpu_dtype(dtype);
  else at::autocast::set_autocast_cpu_dtype(dtype);
#endif
}
struct AutocastFrame {
  at::DeviceType type;
  bool enabled;
  at::ScalarType dtype;
};
thread_local std::vector<AutocastFrame> gAutocastFrames;
OP(autocastEnter) {
  auto type = autocastDeviceArg(strArg(info, 0));
  auto dtype = dtypeFromName(strArg(info, 1));
  if (dtype != at::kBFloat16 && dtype != at::kHalf) throw ArgError("autocast dtype must be bfloat16 or float16");
  gAutocastFrames.push_back({type, autocastEnabled(type), autocastDtype(type)});
  setAutocastEnabled(type, true);
  setAutocastDtype(type, dtype);
  at::autocast::increment_nesting();
  return info.Env().Undefined();
}
OP(autocastExit) {
  if (gAutocastFrames.empty()) throw ArgError("autocastExit without a matching autocastEnter");
  auto frame = gAutocastFrames.back();
  gAutocastFrames.pop_back();
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  setAutocastEnabled(frame.type, frame.enabled);
  setAutocastDtype(frame.type, frame.dtype);
  return info.Env().Undefined();
}
OP(isAutocastEnabled) { return Napi::Boolean::New(info.Env(), autocastEnabled(autocastDeviceArg(strArg(info, 0)))); }

OP(cudaIsAvailable) { return Napi::Boolean::New(info.Env(), at::hasCUDA()); }
OP(cudaDeviceCount) { return Napi::Number::New(info.Env(), double(torch::cuda::device_count())); }
OP(setDeterministic) {
  at::globalContext().setDeterministicAlgorithms(boolArg(info, 0), /*warn_only=*/false);
  return info.Env().Undefined();
}
OP(libtorchVersion) {
  return Napi::String::New(info.Env(), std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) +
                                           "." + std::to_string(TORCH_VERSION_PATCH));
}

// ---- distributed: c10d's process group and DDP Reducer (native/distributed.cc) ----
// Waits that can last minutes (the rendezvous, a barrier, a store key another rank sets) run on
// libuv's thread pool and settle a promise, so the event loop keeps serving signals and timers.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, std::string name, std::function<std::string()> work)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), name_(std::move(name)), work_(std::move(work)) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      result_ = work_();
    } catch (const c10::Error& e) {
      SetError(name_ + " failed: " + e.what_without_backtrace());
    } catch (const std::exception& e) {
      SetError(name_ + " failed: " + e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(Napi::String::New(Env(), result_)); }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::string name_;
  std::function<std::string()> work_;
  std::string result_;
};
static Napi::Value runAsync(Napi::Env env, const char* name, std::function<std::string()> work) {
  auto* worker = new PromiseWorker(env, name, std::move(work));
  auto promise = worker->promise();
  worker->Queue();
  return promise;
}
namespace dist = aplnet::dist;
OP(distBackends) { return Napi::String::New(info.Env(), dist::backends()); }
OP(distBuildNote) { return Napi::String::New(info.Env(), dist::buildNote()); }
OP(distInit) {
  auto backend = strArg(info, 0), host = strArg(info, 1);
  auto port = int(intArg(info, 2)), rank = int(intArg(info, 3)), size = int(intArg(info, 4));
  auto timeoutMs = intArg(info, 5);
  return runAsync(info.Env(), "distInit", [=] {
    dist::init(backend, host, port, rank, size, timeoutMs);
    return std::string();
  });
}
OP(distDestroy) {
  dist::destroy();
  return info.Env().Undefined();
}
OP(distIsInitialized) { return Napi::Boolean::New(info.Env(), dist::isInitialized()); }
OP(distRank) { return Napi::Number::New(info.Env(), dist::rank()); }
OP(distWorldSize) { return Napi::Number::New(info.Env(), dist::worldSize()); }
OP(distStoreSet) {
  dist::storeSet(strArg(info, 0), strArg(info, 1));
  return info.Env().Undefined();
}
OP(distStoreGet) {
  auto key = strArg(info, 0);
  auto timeoutMs = intArg(info, 1);
  return runAsync(info.Env(), "distStoreGet", [=] { return dist::storeGet(key, timeoutMs); });
}
OP(distAllReduce) {
  dist::allReduce(tensorListArg(info, 0), strArg(info, 1));
  return info.Env().Undefined();
}
OP(distBroadcast) {
  dist::broadcast(tensorListArg(info, 0), int(intArg(info, 1)));
  return info.Env().Undefined();
}
OP(distAllGather) { RET(dist::allGather(T(0))); }
OP(distBarrier) {
  return runAsync(info.Env(), "distBarrier", [] {
    dist::barrier();
    return std::string();
  });
}
OP(distAllReduceSumWithGrad) { RET(dist::allReduceSumWithGrad(T(0))); }
OP(distReducerAttach) {
  dist::reducerAttach(tensorListArg(info, 0), intArg(info, 1));
  return info.Env().Undefined();
}
OP(distReducerPrepareForward) {
  dist::reducerPrepareForward();
  return info.Env().Undefined();
}
OP(distReducerPrepareBackward) {
  dist::reducerPrepareBackward();
  return info.Env().Undefined();
}
OP(distReducerDetach) {
  dist::reducerDetach();
  return info.Env().Undefined();
}
OP(distReducerBucketBytes) {
  auto sizes = dist::reducerBucketBytes();
  auto arr = Napi::Array::New(info.Env(), sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) arr.Set(uint32_t(i), Napi::Number::New(info.Env(), double(sizes[i])));
  return arr;
}

// The export list is native/ops.json's op list (boundary.generated.h), so the addon exports
// exactly the functions that src/torch's NativeApi interface declares.
#define EXPORT(name) exports.Set(#name, Napi::Function::New(env, op_##name, #name));

// glibc serves large blocks (activations, gradients) with mmap and hands freed memory back to the
// OS at once, so every training step page-faults its activations in again. Measured on the engine
// benchmark's net (1 thread): forward 303 → 245 ms and backward 670 → 419 ms per step once large
// blocks are kept in the heap. Memory stays at the working set's peak instead of shrinking between
// steps. APLNET_MALLOC_TUNING=0 keeps glibc's defaults.
static void tuneMallocForTensors() {
#ifdef __GLIBC__
  const char* setting = std::getenv("APLNET_MALLOC_TUNING");
  if (setting && std::string(setting) == "0") return;
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  static std::once_flag tuned;
  std::call_once(tuned, tuneMallocForTensors);
  APLNET_OPS(EXPORT)
  return exports;
}

NODE_API_MODULE(aplnet, Init)
