// Docker's defaults for a container's security settings (moby oci/defaults.go and
// oci/caps/defaults.go), kept in one place so the runtime and its tests agree.
#pragma once

#include <linux/capability.h>

#include <array>

namespace imgbuild::runtime {

// The 14 capabilities a Docker container keeps; every other one is dropped from all sets,
// the bounding set included.
inline constexpr std::array<int, 14> kDefaultCapabilities = {
    CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,           CAP_FOWNER,
    CAP_MKNOD,   CAP_NET_RAW,      CAP_SETGID,           CAP_SETUID,
    CAP_SETFCAP, CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
    CAP_KILL,    CAP_AUDIT_WRITE,
};

// Covered by an empty read-only tmpfs (directories) or /dev/null (files); missing ones are skipped.
inline constexpr std::array<const char*, 12> kMaskedPaths = {
    "/proc/asound",      "/proc/acpi",          "/proc/interrupts", "/proc/kcore",
    "/proc/keys",        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
    "/proc/sched_debug", "/proc/scsi",          "/sys/firmware",    "/sys/devices/virtual/powercap",
};

// Bound read-only onto themselves.
inline constexpr std::array<const char*, 5> kReadonlyPaths = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

// RLIMIT_NOFILE as containerd sets it for Docker 25+ (soft 1024, hard 524288).
inline constexpr unsigned long kNofileSoft = 1024;
inline constexpr unsigned long kNofileHard = 524288;

}  // namespace imgbuild::runtime
