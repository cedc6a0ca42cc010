// Kernel ABI of FUSE over io_uring (protocol 7.42, Linux 6.14), which Debian 12's <linux/fuse.h>
// (7.37) predates. Copied field for field from the kernel's include/uapi/linux/fuse.h (and the
// commands' handling in fs/fuse/dev_uring.c); the static_asserts pin the layout the kernel reads.
//
// How the kernel uses them: a server that answers INIT with FUSE_OVER_IO_URING registers ring
// entries on /dev/fuse with IORING_OP_URING_CMD SQEs (128-byte SQEs: fuse_uring_cmd_req lives in
// the SQE's command area). An entry is two buffers, given as a two-iovec array in sqe->addr: a
// fuse_uring_req_header and a payload of at least max(FUSE_MIN_READ_BUFFER, max_write,
// max_pages * page size) bytes. There is one queue per possible CPU (qid = CPU number); a request
// goes to the queue of the CPU its caller runs on, and the ring is used only once every queue has
// an entry registered (until then, and after a failed REGISTER, requests come through /dev/fuse;
// FORGETs and INTERRUPTs always do). A request arrives as the completion of the entry's pending
// command: fuse_in_header in in_out, the opcode's fixed argument struct (its first argument) in
// op_in, the remaining arguments in the payload (ring_ent_in_out.payload_sz bytes). The reply goes
// back the same way (fuse_out_header in in_out, the reply's arguments in the payload) with
// COMMIT_AND_FETCH, which also makes the entry wait for the next request.
#pragma once

#include <linux/fuse.h>

#include <cstddef>
#include <cstdint>

namespace imgbuild::fs::uring_abi {

// INIT flags2 bit (FUSE_OVER_IO_URING is 1ULL << 41 in the 64-bit flags, FUSE_INIT_EXT needed).
constexpr uint32_t kOverIoUringFlags2 = 1u << (41 - 32);

constexpr size_t kInOutHeaderSize = 128;  // FUSE_URING_IN_OUT_HEADER_SZ
constexpr size_t kOpInOutSize = 128;      // FUSE_URING_OP_IN_OUT_SZ

struct EntInOut {  // struct fuse_uring_ent_in_out
  uint64_t flags;
  uint64_t commit_id;   // the request's unique; echoed in CmdReq::commit_id to commit it
  uint32_t payload_sz;  // bytes valid in the payload buffer, either direction
  uint32_t padding;
  uint64_t reserved;
};

struct ReqHeader {                // struct fuse_uring_req_header
  char in_out[kInOutHeaderSize];  // fuse_in_header on fetch, fuse_out_header on commit
  char op_in[kOpInOutSize];       // the opcode's first argument (fuse_write_in, ...)
  EntInOut ring_ent_in_out;
};

enum Cmd : uint32_t {      // enum fuse_uring_cmd, in sqe->cmd_op
  kCmdRegister = 1,        // FUSE_IO_URING_CMD_REGISTER
  kCmdCommitAndFetch = 2,  // FUSE_IO_URING_CMD_COMMIT_AND_FETCH
};

struct CmdReq {  // struct fuse_uring_cmd_req, in the 80-byte command area of a 128-byte SQE
  uint64_t flags;
  uint64_t commit_id;
  uint16_t qid;
  uint8_t padding[6];
};

static_assert(sizeof(EntInOut) == 32);
static_assert(sizeof(ReqHeader) == 288);
static_assert(offsetof(ReqHeader, ring_ent_in_out) == 256);
static_assert(sizeof(CmdReq) == 24);
static_assert(sizeof(fuse_in_header) <= kInOutHeaderSize);
static_assert(sizeof(fuse_out_header) <= kInOutHeaderSize);

}  // namespace imgbuild::fs::uring_abi
