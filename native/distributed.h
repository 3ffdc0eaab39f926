// aplnet's data-parallel engine: libtorch's own c10d (TCPStore rendezvous, ProcessGroupGloo on
// CPU, ProcessGroupNCCL on CUDA, and DDP's Reducer), behind plain C++ functions. aplnet.cc wraps
// each in an OP body, so every exception reaches JavaScript as an Error. One process group per
// process, as torch.distributed's default group: a rank joins one world and leaves it once.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

namespace aplnet::dist {

/** Comma-separated backends this build has ("gloo", "gloo,nccl"), or "" with the reason in buildNote(). */
std::string backends();
/** Why a backend is missing from this build, or "" when none is. */
std::string buildNote();

/**
 * Joins the world: rank 0 serves the TCPStore at host:port, every rank connects, and the process
 * group is built over it. Blocks until all worldSize ranks arrived or timeoutMs passed. The same
 * timeout then bounds every collective, so a rank whose peer hangs fails instead of hanging.
 */
void init(const std::string& backend, const std::string& host, int port, int rank, int worldSize, int64_t timeoutMs);
/** Leaves the world: the Reducer, the process group and the store are released. */
void destroy();
bool isInitialized();
int rank();
int worldSize();

/** The rendezvous store, for small messages between ranks (rank 0's "ready", an error to share). */
void storeSet(const std::string& key, const std::string& value);
/** Waits up to timeoutMs for key to be set, then returns its value. */
std::string storeGet(const std::string& key, int64_t timeoutMs);

/** In place over all ranks; op is sum, avg, max or min. The tensors are reduced as one flat buffer. */
void allReduce(const std::vector<at::Tensor>& tensors, const std::string& op);
/** Copies src's values into every rank's tensors, in place, coalesced into few messages. */
void broadcast(const std::vector<at::Tensor>& tensors, int src);
/** Every rank's t (same shape on all ranks), stacked along a new first dimension in rank order. */
at::Tensor allGather(const at::Tensor& t);
void barrier();
/** Sum over ranks that autograd differentiates: its gradient is the sum of the ranks' gradients. */
at::Tensor allReduceSumWithGrad(const at::Tensor& t);

/**
 * Attaches DDP's Reducer to params: from then on each backward all-reduces (and averages) their
 * gradients in buckets of about bucketCapBytes, launched as soon as a bucket's gradients are ready,
 * so communication overlaps the rest of the backward pass.
 */
void reducerAttach(const std::vector<at::Tensor>& params, int64_t bucketCapBytes);
/** Before a training forward: rebuilds buckets in the order gradients arrived (after step 1). */
void reducerPrepareForward();
/** Between the loss and its backward: arms the Reducer's hooks for this backward. */
void reducerPrepareBackward();
void reducerDetach();
/** Gradient buckets and their sizes in bytes, for logs and the benchmark. */
std::vector<int64_t> reducerBucketBytes();

}  // namespace aplnet::dist
