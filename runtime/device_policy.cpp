#include "runtime/device_policy.h"

#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <vector>

#include "base/eintr.h"
#include "base/sys.h"
#include "base/unique_fd.h"

namespace imgbuild::runtime {
namespace {

// Docker's (runc's) default list.
constexpr DeviceRule kAllow[] = {
    {'c', -1, -1, "m"}, {'b', -1, -1, "m"}, {'c', 1, 3, "rwm"},    {'c', 1, 5, "rwm"},
    {'c', 1, 7, "rwm"}, {'c', 1, 8, "rwm"}, {'c', 1, 9, "rwm"},    {'c', 5, 0, "rwm"},
    {'c', 5, 1, "rwm"}, {'c', 5, 2, "rwm"}, {'c', 136, -1, "rwm"}, {'c', 10, 200, "rwm"},
};

uint32_t access_bits(const char* access) {
  uint32_t bits = 0;
  for (const char* p = access; *p != '\0'; ++p) {
    if (*p == 'm') bits |= BPF_DEVCG_ACC_MKNOD;
    if (*p == 'r') bits |= BPF_DEVCG_ACC_READ;
    if (*p == 'w') bits |= BPF_DEVCG_ACC_WRITE;
  }
  return bits;
}

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

// The program: r2 = type, r3 = requested access, r4 = major, r5 = minor (struct
// bpf_cgroup_dev_ctx: access_type = access << 16 | type, then major, minor); one block per rule
// that returns 1 (allow) when every field matches and jumps to the next block otherwise; 0 (deny)
// at the end. A request is allowed when all of its access bits are in one rule's set.
std::vector<bpf_insn> policy_program() {
  std::vector<bpf_insn> p;
  const uint8_t kLdxW = BPF_LDX | BPF_MEM | BPF_W;
  p.push_back(insn(kLdxW, BPF_REG_2, BPF_REG_1, 0, 0));
  p.push_back(insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff));
  p.push_back(insn(kLdxW, BPF_REG_3, BPF_REG_1, 0, 0));
  p.push_back(insn(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16));
  p.push_back(insn(kLdxW, BPF_REG_4, BPF_REG_1, 4, 0));
  p.push_back(insn(kLdxW, BPF_REG_5, BPF_REG_1, 8, 0));
  for (const DeviceRule& r : kAllow) {
    // Jumps are patched to the first instruction after this block once its length is known.
    std::vector<size_t> jumps;
    auto jne = [&](uint8_t reg, int32_t imm) {
      jumps.push_back(p.size());
      p.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, reg, 0, 0, imm));
    };
    if (r.type != 'a') jne(BPF_REG_2, r.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
    p.push_back(insn(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0));
    p.push_back(insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0,
                     static_cast<int32_t>(~access_bits(r.access))));
    jne(BPF_REG_1, 0);
    if (r.major >= 0) jne(BPF_REG_4, static_cast<int32_t>(r.major));
    if (r.minor >= 0) jne(BPF_REG_5, static_cast<int32_t>(r.minor));
    p.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1));
    p.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    for (size_t j : jumps) p[j].off = static_cast<int16_t>(p.size() - j - 1);
  }
  p.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0));
  p.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  return p;
}

long bpf(int cmd, bpf_attr* attr) {
  return sys::retry_eintr([&] { return ::syscall(SYS_bpf, cmd, attr, sizeof *attr); });
}

Result<int> load_program() {
  std::vector<bpf_insn> prog = policy_program();
  static char log[4096];
  bpf_attr attr{};
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = reinterpret_cast<uint64_t>(prog.data());
  attr.insn_cnt = static_cast<uint32_t>(prog.size());
  attr.license = reinterpret_cast<uint64_t>("Apache-2.0");
  attr.log_buf = reinterpret_cast<uint64_t>(log);
  attr.log_size = sizeof log;
  attr.log_level = 1;
  long fd = bpf(BPF_PROG_LOAD, &attr);
  if (fd < 0) {
    int err = errno;
    std::string detail = log[0] != '\0' ? std::string(" (verifier: ") + log + ")" : "";
    return fail(Error::from_errno("bpf(BPF_PROG_LOAD)", "device policy" + detail, err));
  }
  return static_cast<int>(fd);
}

}  // namespace

const DeviceRule* device_allow_list(size_t* count) {
  *count = std::size(kAllow);
  return kAllow;
}

Status attach_device_program(int cgroup_fd) {
  // One program serves every container of this process: load it once and keep it.
  static std::once_flag once;
  static Result<int> program = fail(ErrorKind::kInternal, "unset");
  std::call_once(once, [] { program = load_program(); });
  if (!program) return fail(program.error());
  bpf_attr attr{};
  attr.target_fd = static_cast<uint32_t>(cgroup_fd);
  attr.attach_bpf_fd = static_cast<uint32_t>(*program);
  attr.attach_type = BPF_CGROUP_DEVICE;
  // ALLOW_MULTI: runs beside programs of the parent cgroups (all must allow), and works under a
  // parent that has its own (systemd's device policies).
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf(BPF_PROG_ATTACH, &attr) < 0) return fail_errno("bpf(BPF_PROG_ATTACH)", "device policy");
  return {};
}

Status write_v1_device_rules(const std::string& dir) {
  auto write = [&](const char* file, const std::string& value) -> Status {
    UniqueFd fd = TRY(sys::open(dir + "/" + file, O_WRONLY));
    if (::write(fd.get(), value.data(), value.size()) < 0) {
      return fail_errno("write " + value + " to", dir + "/" + file);
    }
    return {};
  };
  TRY(write("devices.deny", "a"));
  for (const DeviceRule& r : kAllow) {
    std::string rule = std::string(1, r.type) + " " +
                       (r.major < 0 ? std::string("*") : std::to_string(r.major)) + ":" +
                       (r.minor < 0 ? std::string("*") : std::to_string(r.minor)) + " " + r.access;
    TRY(write("devices.allow", rule));
  }
  return {};
}

}  // namespace imgbuild::runtime
