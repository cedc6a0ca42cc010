// ChunkQueue: a bounded single-producer/single-consumer queue of byte chunks, used to run one
// stage of the layer pipeline (compression, decompression) on its own thread. push() blocks while
// `capacity` chunks are queued; pop() blocks until a chunk or close(). Internal to image/.
//
// Thread-safe for one producer and one consumer. close() ends the stream (pop() then drains and
// returns nullopt); an Error may be attached by either side and is reported to the other.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "base/error.h"

namespace imgbuild::image {

class ChunkQueue {
 public:
  explicit ChunkQueue(size_t capacity) : capacity_(capacity) {}

  // False when the consumer gave up (its error is in error()).
  bool push(std::string chunk) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return chunks_.size() < capacity_ || failed_; });
    if (failed_) return false;
    chunks_.push_back(std::move(chunk));
    not_empty_.notify_one();
    return true;
  }
  std::optional<std::string> pop() {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return !chunks_.empty() || closed_ || failed_; });
    if (failed_ || chunks_.empty()) return std::nullopt;
    std::string c = std::move(chunks_.front());
    chunks_.pop_front();
    not_full_.notify_one();
    return c;
  }
  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    not_empty_.notify_all();
  }
  void fail(Error error) {
    std::lock_guard lock(mu_);
    if (!failed_) error_ = std::move(error);
    failed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }
  std::optional<Error> error() {
    std::lock_guard lock(mu_);
    return error_;
  }

 private:
  std::mutex mu_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::deque<std::string> chunks_;
  size_t capacity_;
  bool closed_ = false;
  bool failed_ = false;
  std::optional<Error> error_;
};

}  // namespace imgbuild::image
