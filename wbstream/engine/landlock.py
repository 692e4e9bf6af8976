"""An OS sandbox for the isolated adversary's process: Linux Landlock, through ctypes.

A process isolated from the referee's objects still runs under the referee's user,
so without more the OS would hand it the run secret's file, the key cache, other
processes' ``/proc/<pid>/mem`` and ``environ``, signals and the network.
:class:`Policy` is what the referee grants the child; :meth:`Policy.apply` (in the
child, before an adversary plugin's module is imported and before any adversary
code runs) sets ``PR_SET_NO_NEW_PRIVS`` and restricts the process, and so
every process it starts, for good:

* files: read and execute only beneath the Python installation and the import
  path, the system library directories and the few ``/etc`` files the loader
  reads, ``/sys/devices/system/cpu``; ``/dev/null`` and ``/dev/urandom``; the key
  files the level grants (white-box: those the referee maps); everything within a
  private temporary directory made for the child (its cwd and ``TMPDIR``), and
  nothing else, ``/proc`` included;
* TCP bind and connect: none (ABI 4 and up);
* signals and abstract unix sockets: only within the sandbox (ABI 6 and up).

Landlock needs Linux 5.13 or later with the ``landlock`` LSM enabled;
:func:`abi_version` says which ABI the kernel offers (0: none), and the best one
is used. Landlock is not DAC: it binds root too.

>>> p = Policy(abi=abi_version(), read=("/usr",), files=(), private="/tmp")
>>> p.handled_fs() & ACCESS_FS["read_file"] != 0 if p.abi else True
True
"""

from __future__ import annotations

import ctypes
import os
import sys
import tempfile
import warnings
from dataclasses import dataclass

from .mapped import open_paths

# syscall numbers: the same on x86_64 and on the generic table (aarch64, riscv64)
_CREATE, _ADD_RULE, _RESTRICT = 444, 445, 446
_CREATE_RULESET_VERSION = 1 << 0
_RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38
PR_SET_DUMPABLE = 4

ACCESS_FS = {"execute": 1 << 0, "write_file": 1 << 1, "read_file": 1 << 2, "read_dir": 1 << 3,
             "remove_dir": 1 << 4, "remove_file": 1 << 5, "make_char": 1 << 6, "make_dir": 1 << 7,
             "make_reg": 1 << 8, "make_sock": 1 << 9, "make_fifo": 1 << 10, "make_block": 1 << 11,
             "make_sym": 1 << 12, "refer": 1 << 13, "truncate": 1 << 14, "ioctl_dev": 1 << 15}
#: The filesystem rights each ABI knows (1: 13 rights; 2: refer; 3: truncate; 5: ioctl on devices).
_FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1}
_FS_LATEST = (1 << 16) - 1
_FILE_RIGHTS = (ACCESS_FS["execute"] | ACCESS_FS["write_file"] | ACCESS_FS["read_file"] | ACCESS_FS["truncate"]
                | ACCESS_FS["ioctl_dev"])
_NET_TCP = (1 << 0) | (1 << 1)  # bind, connect (ABI 4)
_SCOPES = (1 << 0) | (1 << 1)  # abstract unix sockets, signals (ABI 6)

READ = ACCESS_FS["read_file"] | ACCESS_FS["read_dir"] | ACCESS_FS["execute"]
#: System directories and files a Python process and its native libraries read.
SYSTEM_READ = ("/lib", "/lib32", "/lib64", "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/local/lib",
               "/usr/share/zoneinfo", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
               "/etc/localtime", "/sys/devices/system/cpu")


#: Capabilities that show the algorithm's internals: with one, the child may read the key files the referee maps.
INTERNALS = frozenset({"state", "coins", "simulate"})


class SandboxError(OSError):
    """The kernel refused to install a sandbox it had said it offers."""


class SandboxWarning(UserWarning):
    """The kernel offers no Landlock: isolated adversaries play without the OS sandbox."""


_warned = False


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def abi_version() -> int:
    """The Landlock ABI the kernel offers, 0 if none (not Linux, too old, or the LSM disabled)."""
    if not sys.platform.startswith("linux"):
        return 0
    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    version = libc.syscall(ctypes.c_long(_CREATE), None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    return max(int(version), 0)


def set_dumpable(flag: bool) -> None:
    """``prctl(PR_SET_DUMPABLE)``: a process that is not dumpable keeps its ``/proc/<pid>/mem`` from non-root peers."""
    if sys.platform.startswith("linux"):
        _libc().prctl(PR_SET_DUMPABLE, int(flag), 0, 0, 0)


def import_paths() -> tuple[str, ...]:
    """The Python installation, every directory of the import path (the working directory excepted), and
    the package directories an editable install maps from outside it (wbstream's own, under ``pip install -e``)."""
    import wbstream

    paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable))]
    paths += [p for p in sys.path if p and os.path.isdir(p)]
    paths += list(wbstream.__path__) + _editable_roots()
    return tuple(dict.fromkeys(os.path.realpath(p) for p in paths if os.path.isdir(p)))


def _editable_roots() -> list[str]:
    """The package directories setuptools' editable finders map (their module's ``MAPPING``)."""
    roots = []
    for finder in sys.meta_path:
        mapping = getattr(sys.modules.get(getattr(finder, "__module__", None) or ""), "MAPPING", None)
        if isinstance(mapping, dict):
            roots += [p for p in mapping.values() if isinstance(p, str)]
    return roots


@dataclass(frozen=True)
class Policy:
    """What the isolated child may touch: ``read`` trees, single ``files`` to read, one ``private`` directory."""

    abi: int
    read: tuple[str, ...]
    files: tuple[str, ...]
    private: str

    def handled_fs(self) -> int:
        return _FS_BY_ABI.get(self.abi, _FS_LATEST)

    def apply(self) -> None:
        """Restrict this process and its future children to the policy; raises :class:`SandboxError` if refused."""
        libc = _libc()
        libc.syscall.restype = ctypes.c_long
        handled = self.handled_fs()
        attr = _RulesetAttr(handled, _NET_TCP if self.abi >= 4 else 0, _SCOPES if self.abi >= 6 else 0)
        size = 8 if self.abi < 4 else 16 if self.abi < 6 else 24
        ruleset = libc.syscall(ctypes.c_long(_CREATE), ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
        if ruleset < 0:
            raise SandboxError(ctypes.get_errno(), f"landlock_create_ruleset: {os.strerror(ctypes.get_errno())}")
        try:
            grants = [(p, READ) for p in (*self.read, *SYSTEM_READ)]
            grants += [(p, ACCESS_FS["read_file"]) for p in (*self.files, "/dev/urandom")]
            grants += [("/dev/null", ACCESS_FS["read_file"] | ACCESS_FS["write_file"]), (self.private, handled)]
            for path, access in grants:
                self._allow(libc, ruleset, path, access & handled)
            if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
                raise SandboxError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) refused")
            if libc.syscall(ctypes.c_long(_RESTRICT), ctypes.c_int(ruleset), ctypes.c_uint32(0)) != 0:
                raise SandboxError(ctypes.get_errno(), f"landlock_restrict_self: {os.strerror(ctypes.get_errno())}")
        finally:
            os.close(ruleset)

    @staticmethod
    def _allow(libc, ruleset: int, path: str, access: int) -> None:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:  # not on this system: nothing to grant
            return
        try:
            if not os.path.isdir(path):
                access &= _FILE_RIGHTS
            rule = _PathBeneath(access, fd)
            if libc.syscall(ctypes.c_long(_ADD_RULE), ctypes.c_int(ruleset), ctypes.c_int(_RULE_PATH_BENEATH),
                            ctypes.byref(rule), ctypes.c_uint32(0)) != 0:
                raise SandboxError(ctypes.get_errno(), f"landlock_add_rule({path}): {os.strerror(ctypes.get_errno())}")
        finally:
            os.close(fd)


def policy_for(threat, private: str) -> Policy | None:
    """The sandbox for an isolated adversary at ``threat``'s level, or None (and a warning, once) without Landlock.

    ``threat`` None: a child that plays no game (a plugin's description or check) and reads no key.
    """
    global _warned
    abi = abi_version()
    if not abi:
        if not _warned:
            _warned = True
            warnings.warn("this kernel offers no Landlock (Linux >= 5.13 with the landlock LSM): isolated adversaries "
                          "run without the OS sandbox and can read what their user can (files, /proc)",
                          SandboxWarning, stacklevel=3)
        return None
    files = open_paths() if threat is not None and threat.capabilities & INTERNALS else ()
    return Policy(abi=abi, read=import_paths(), files=files, private=private)


def run_sandboxed(policy: Policy | None, fn, *args):
    """In a child: ``fn(*args)`` under ``policy`` (for :func:`~wbstream.engine.isolation.run_forked_bytes`)."""
    if policy is not None:
        enter(policy)
    return fn(*args)


def enter(policy: Policy) -> None:
    """In the isolated child: work in the private directory, then apply the sandbox."""
    import multiprocessing

    os.chdir(policy.private)
    os.environ["TMPDIR"] = tempfile.tempdir = policy.private
    multiprocessing.current_process()._config.pop("tempdir", None)  # an own fork server's socket goes there too
    policy.apply()
