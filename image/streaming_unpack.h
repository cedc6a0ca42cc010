// StreamingUnpack: extracts a layer while its compressed blob is still arriving, so a pull
// unpacks as it downloads instead of after. The caller feeds the blob's bytes in order (the same
// bytes it writes to the BlobWriter); an extractor thread reads them through a pipe into a
// staging directory with the hostile-tar rules of extract_layer().
//
// Nothing becomes visible before finish(): it ends the stream, checks the tar's diff ID and only
// then adopts the directory as the layer. Destroying an unfinished StreamingUnpack (download
// failed, digest mismatch, cancellation) joins the thread and removes the staging directory.
//
// One feeding thread at a time. feed() blocks while the extractor is behind (a full pipe), which
// slows the download to the extraction's pace rather than buffering without bound. Once the
// extraction has failed, feed() returns its error so the caller stops downloading.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/error.h"
#include "image/digest.h"
#include "image/store.h"

namespace imgbuild::image {

class StreamingUnpack {
 public:
  // `context` prefixes errors ("unpacking layer sha256:...").
  static Result<std::unique_ptr<StreamingUnpack>> start(const Store& store, std::string context);
  ~StreamingUnpack();
  StreamingUnpack(const StreamingUnpack&) = delete;
  StreamingUnpack& operator=(const StreamingUnpack&) = delete;

  Status feed(std::string_view bytes);
  // Ends the stream; when the extracted tar hashes to diff_id, moves it in as that layer
  // (kCorrupt otherwise). Returns Store::layer_path(diff_id).
  Result<std::string> finish(const Digest& diff_id);

 private:
  struct State;
  explicit StreamingUnpack(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace imgbuild::image
