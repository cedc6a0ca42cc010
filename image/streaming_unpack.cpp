#include "image/streaming_unpack.h"

#include <fcntl.h>
#include <unistd.h>

#include <mutex>
#include <optional>
#include <thread>
#include <tuple>

#include "base/fs.h"
#include "base/sys.h"
#include "image/layer_extractor.h"

namespace imgbuild::image {

struct StreamingUnpack::State {
  const Store* store = nullptr;
  std::string context;
  fs::TempDir staging;
  std::string staged;  // staging/layer, created by the extractor
  UniqueFd read_end;   // owned by the extractor thread once it runs
  UniqueFd write_end;  // closed by finish() or the destructor: the extractor then sees EOF
  std::thread extractor;

  std::mutex mu;
  std::optional<Result<ExtractedLayer>> outcome;  // set when extraction has ended

  explicit State(fs::TempDir dir) : staging(std::move(dir)) {}

  void run() {
    Result<ExtractedLayer> r = extract_layer(read_end.get(), staged);
    {
      std::lock_guard lock(mu);
      outcome = std::move(r);
    }
    // Read on until the feeder closes its end (the tar may end before the stream does, or the
    // extraction failed): a feeder never blocks on a pipe nobody reads, and never sees EPIPE.
    char buf[64 * 1024];
    for (;;) {
      auto n = sys::read_some(read_end.get(), buf);
      if (!n || *n == 0) break;
    }
    read_end.reset();
  }

  Result<ExtractedLayer> end_stream() {
    write_end.reset();
    if (extractor.joinable()) extractor.join();
    std::lock_guard lock(mu);
    if (!outcome) return fail(ErrorKind::kInternal, context + ": extractor ended without result");
    return *outcome;
  }
};

StreamingUnpack::StreamingUnpack(std::unique_ptr<State> state) : state_(std::move(state)) {}

StreamingUnpack::~StreamingUnpack() {
  if (state_) (void)state_->end_stream();
}

Result<std::unique_ptr<StreamingUnpack>> StreamingUnpack::start(const Store& store,
                                                                std::string context) {
  fs::TempDir dir = TRY_CTX(store.make_staging_dir("unpack"), context);
  auto state = std::make_unique<State>(std::move(dir));
  state->store = &store;
  state->context = std::move(context);
  state->staged = fs::join(state->staging.path(), "layer");
  std::tie(state->read_end, state->write_end) = TRY(sys::pipe2(0, state->context));
  // A larger pipe lets the download run ahead of the extractor by a megabyte (best effort: the
  // default 64 KiB works, only with more context switches).
  (void)::fcntl(state->write_end.get(), F_SETPIPE_SZ, 1 << 20);
  State* s = state.get();
  s->extractor = std::thread([s] { s->run(); });
  return std::unique_ptr<StreamingUnpack>(new StreamingUnpack(std::move(state)));
}

Status StreamingUnpack::feed(std::string_view bytes) {
  {
    std::lock_guard lock(state_->mu);
    if (state_->outcome && !*state_->outcome) {
      return fail(state_->outcome->error().with_context(state_->context));
    }
  }
  return sys::write_all(state_->write_end.get(), bytes, state_->context);
}

Result<std::string> StreamingUnpack::finish(const Digest& diff_id) {
  ExtractedLayer extracted = TRY_CTX(state_->end_stream(), state_->context);
  if (extracted.diff_id != diff_id) {
    return fail(ErrorKind::kCorrupt,
                state_->context + ": diff ID mismatch: the image config says " + diff_id.str() +
                    ", the tar hashes to " + extracted.diff_id.str());
  }
  return TRY_CTX(state_->store->adopt_layer_dir(state_->staged, diff_id), state_->context);
}

}  // namespace imgbuild::image
