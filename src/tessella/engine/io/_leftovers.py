"""The hidden names a write uses beside its target, and what a killed write leaves there.

A write of ``TARGET`` (:func:`~._write.atomic_path`, :func:`~._write.write_zarr_labels`,
napari's Export) writes ``.TARGET.TOKEN.tmp`` beside it and renames it onto ``TARGET`` once
complete; a folder there is first moved aside to ``.TARGET.TOKEN.old``, and removed (renamed
``.TARGET.TOKEN.del`` first) once the new one is in place. ``TOKEN`` is ``HOST-PID-XXXXXXXX``
(this computer, this process), and ``.TARGET.TOKEN.lock``, made first and removed last, is
locked (:func:`~tessella.engine._file_lock.try_lock`) while the write runs: the system
unlocks it when its process ends, however it ends (kill -9 included). So a write killed
before it finished (a power cut, the OOM killer) is told from one still running, and the
next write of ``TARGET`` undoes what it left (:func:`recover_leftovers`): the earlier
``TARGET`` put back from ``.old`` where ``TARGET`` is missing (a kill between the two
renames), its ``.tmp`` and ``.del`` removed. No Qt here."""

from __future__ import annotations

import bisect
import contextlib
import errno
import json
import os
import re
import secrets
import shutil
import socket
import sys
import threading
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._file_lock import try_lock

__all__ = [
    "Claim",
    "batch_of_writes",
    "claim",
    "find_leftovers",
    "mark_lock",
    "new_token",
    "probe_path",
    "recover_leftovers",
    "rename_no_replace",
    "staged_claim",
    "undo_merge",
]

#: what each hidden name holds: the new output being written, the earlier one moved aside
#: while the new one is renamed in, the earlier one being removed, the lock of the write,
#: and, of a write that merges its files into a folder there (a CTC result), the names it
#: adds to that folder (:meth:`Claim.record_merge`: then ``.old`` holds only the files it
#: moved aside), and a writability probe's file (:func:`probe_path`)
KINDS = ("tmp", "old", "del", "lock", "merge", "probe")

#: the tokens of this process's writes claimed and not yet released (one token may claim
#: several targets: Export's outputs): a write of this process is over when its token is
#: not here, whatever its lock file says (a file lock cannot tell this process's own
#: threads apart while the lock file is made and not yet locked)
_LIVE: Counter = Counter()
_LIVE_LOCK = threading.Lock()
#: the claims of this process not yet released, by their ``.tmp`` (:func:`staged_claim`)
_CLAIMS: dict[Path, Claim] = {}
#: the tokens this process made (:func:`new_token`, :func:`claim`): only a token here is
#: this process's own write (:func:`_own`). Another token named with this process's pid is
#: an earlier process's that had the same pid (a container restarted after the OOM killer
#: numbers its processes from 1 again), judged by its lock file as any other write's
_MADE: set[str] = set()


def _own(token: str, pid: int) -> bool:
    """Whether the write named with ``token`` (its pid ``pid``) is this process's own."""
    return pid == os.getpid() and token in _MADE


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", socket.gethostname()) or "host"


_MACHINE: list[str] = []


def _machine_id() -> str:
    """This machine's id (systemd's ``/etc/machine-id``), which its name changing leaves as
    it is; "" where there is none."""
    if not _MACHINE:
        found = ""
        for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
            with contextlib.suppress(OSError, UnicodeDecodeError):
                found = Path(path).read_text().strip()
            if found:
                break
        _MACHINE.append(found if re.fullmatch(r"[0-9a-fA-F]{16,64}", found) else "")
    return _MACHINE[0]


def _this_machine(lock: Path) -> bool:
    """Whether the lock file ``lock`` (of a write named with another host name) was written
    on this machine (its name changed since): it holds this machine's id."""
    mine = _machine_id()
    if not mine:
        return False
    try:
        with open(lock, "rb") as file:
            lines = file.read(200).decode("ascii", "replace").splitlines()
    except OSError:
        return False
    return len(lines) > 1 and lines[1].strip() == mine


def new_token() -> str:
    """``HOST-PID-XXXXXXXX``: names a write's hidden files (this computer, this process)."""
    token = f"{_host()}-{os.getpid()}-{secrets.token_hex(4)}"
    _MADE.add(token)
    return token


def probe_path(folder: str | os.PathLike, name: str) -> Path:
    """A new name for a writability probe's file in ``folder``, named after the file
    ``name`` it checks: ``.NAME.HOST-PID-XXXXXXXX.probe``. Not a leftover while its process
    runs (:func:`find_leftovers` does not list it); one a kill left is removed by the next
    :func:`recover_leftovers` of ``NAME`` (not taken for an older version's temporary)."""
    return Path(folder) / f".{name}.{new_token()}.probe"


def _beside(target: Path, token: str, kind: str) -> Path:
    return target.with_name(f".{target.name}.{token}.{kind}")


def _there(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def rename_no_replace(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """Rename ``src`` to ``dst``, never replacing what is at ``dst``: FileExistsError where
    something is there (made by another writer meanwhile). In one step where the system has
    one (Linux ``renameat2(RENAME_NOREPLACE)``); else a file by a hard link then its old name
    removed; else (a folder, a file system without either) a look then a rename, which can
    replace only an empty folder made in between (a folder with files is never replaced)."""
    src, dst = os.fspath(src), os.fspath(dst)
    if _renameat2(src, dst):
        return
    if os.path.lexists(dst):
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), dst)
    if not os.path.isdir(src) or os.path.islink(src):
        try:
            os.link(src, dst, follow_symlinks=False)
        except FileExistsError:
            raise
        except (OSError, NotImplementedError):
            pass  # (no hard links here)
        else:
            os.unlink(src)
            return
    os.rename(src, dst)


def _renameat2(src: str, dst: str) -> bool:
    """Rename with Linux's ``renameat2(RENAME_NOREPLACE)``: True where done; False where
    the system or the file system has no such rename (FileExistsError where ``dst`` is
    there, another OSError where the rename fails otherwise)."""
    global _RENAMEAT2
    if _RENAMEAT2 is None:
        _RENAMEAT2 = False
        if sys.platform.startswith("linux"):
            import ctypes

            with contextlib.suppress(OSError, AttributeError):
                function = ctypes.CDLL(None, use_errno=True).renameat2
                function.argtypes = [
                    ctypes.c_int,
                    ctypes.c_char_p,
                    ctypes.c_int,
                    ctypes.c_char_p,
                    ctypes.c_uint,
                ]
                function.restype = ctypes.c_int
                _RENAMEAT2 = function
    if _RENAMEAT2 is False:
        return False
    import ctypes

    here = -100  # AT_FDCWD
    if _RENAMEAT2(here, os.fsencode(src), here, os.fsencode(dst), 1) == 0:  # RENAME_NOREPLACE
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # (a kernel or a file system without it)
    if code == errno.EEXIST:
        raise FileExistsError(code, os.strerror(code), dst)
    raise OSError(code, os.strerror(code), src, None, dst)


#: libc's renameat2 where there is one (False: none; None: not looked for yet)
_RENAMEAT2: Any = None


def _remove(path: Path) -> None:
    """Remove the file or folder ``path`` where it is there (what cannot be is left)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


@dataclass
class Claim:
    """A write of ``target`` under ``token``: its hidden names (:meth:`path`) and its lock
    file, open and locked until :meth:`release`."""

    target: Path
    token: str
    fd: int | None

    def path(self, kind: str) -> Path:
        """``.TARGET.TOKEN.KIND`` beside the target (``kind`` one of :data:`KINDS`)."""
        return _beside(self.target, self.token, kind)

    def discard_backup(self) -> None:
        """Remove what the write replaced (``.old``): renamed ``.del`` first, so that a kill
        while a big folder is removed leaves no half-removed ``.old`` that would look like
        the earlier output."""
        old, gone = self.path("old"), self.path("del")
        if not _there(old):
            return
        try:
            os.rename(old, gone)
        except OSError:
            gone = old
        _remove(gone)

    def record_merge(self, names: list[str]) -> None:
        """Say that this write merges the files ``names`` into the folder :attr:`target`
        (where it is there): what it replaces there is moved into ``.old`` file by file, the
        folder's other files stay. The names not there now, which the write adds, are kept
        in ``.TARGET.TOKEN.merge`` until :meth:`release`: a write killed while it merged is
        undone by the next (:func:`recover_leftovers`: those removed, ``.old``'s files put
        back), rather than ``.old`` taken for the whole earlier folder. OSError where it
        cannot be written."""
        adds = [name for name in names if not _there(self.target / name)]
        self.path("merge").write_text(json.dumps({"adds": adds}))

    def release(self) -> None:
        """Unlock the lock file, and remove it where the write's other hidden files are gone
        (else it is left, unlocked, for :func:`recover_leftovers`)."""
        _CLAIMS.pop(self.path("tmp"), None)
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
            _forget(self.token)
        if not any(_there(self.path(kind)) for kind in ("tmp", "old", "del")):
            for kind in ("merge", "lock"):
                with contextlib.suppress(OSError):
                    self.path(kind).unlink()
            _listed(self.path("lock"), gone=True)


def claim(target: str | os.PathLike, token: str | None = None) -> Claim:
    """Begin a write of ``target``: its lock file ``.TARGET.TOKEN.lock`` made (new) and
    locked until :meth:`Claim.release`, before any other hidden file of it. ``token``: one
    write's token for several targets (:func:`new_token`, Export's outputs); else a new one.
    OSError where the folder takes no new file."""
    target = Path(target)
    while True:
        mine = token or new_token()
        lock = _beside(target, mine, "lock")
        _MADE.add(mine)
        with _LIVE_LOCK:
            _LIVE[mine] += 1  # (before the lock file: recovery in another thread spares it)
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except BaseException as exc:
            _forget(mine)
            if isinstance(exc, FileExistsError) and token is None:
                continue
            raise
        try:
            try_lock(fd)  # (where it cannot be locked, recovery asks whether the pid runs)
            mark_lock(fd)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                lock.unlink()
            _forget(mine)
            raise
        made = Claim(target, mine, fd)
        _CLAIMS[made.path("tmp")] = made
        _listed(lock)  # (a batch's listing of the folder knows this write, failed or not)
        return made


def mark_lock(fd: int) -> None:
    """Write this process's pid and this machine's id into the lock file ``fd``, once it is
    locked (:func:`claim`, a conversion's claim): a lock file that is not empty is no longer
    one being made (:func:`_gone`), and one named with a former host name is known for this
    machine's (:func:`_this_machine`)."""
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, f"{os.getpid()}\n{_machine_id()}\n".encode())


#: the folders that writes of this process fill as a batch (:func:`batch_of_writes`): how
#: many batches of each are open, and the hidden names its first look found there, sorted
#: (None: not looked at yet)
_BATCHES: dict[str, list[Any]] = {}
_BATCH_LOCK = threading.Lock()


@contextlib.contextmanager
def batch_of_writes(folder: str | os.PathLike):
    """Writes of many outputs into ``folder`` (a folder of results, one per input): within
    it, :func:`recover_leftovers` reads the folder once, on the first write, and keeps its
    hidden names (``.*``) for the other writes, instead of reading the whole folder on each
    (a batch of N outputs read N² names: 27 ms a write at 20,000 files). What writes killed
    before the batch left there is recovered as without it, each by the first write of its
    target; so is a write of this process that failed meanwhile (its claim is added to the
    names kept). Only what another process's write killed while the batch ran is not seen
    until the batch ends (recovered by the next write of its target after it)."""
    key = os.path.abspath(folder)
    with _BATCH_LOCK:
        batch = _BATCHES.setdefault(key, [0, None])
        batch[0] += 1
    try:
        yield
    finally:
        with _BATCH_LOCK:
            batch[0] -= 1
            if batch[0] <= 0 and _BATCHES.get(key) is batch:
                del _BATCHES[key]


def _listed(path: Path, gone: bool = False) -> None:
    """The hidden file ``path`` made by this process (``gone``: removed by it): added to (or
    taken from) the names kept of its folder where that is filled as a batch
    (:func:`batch_of_writes`)."""
    with _BATCH_LOCK:
        batch = _BATCHES.get(os.path.abspath(path.parent))
        if batch is None or batch[1] is None:
            return
        names = batch[1]
        at = bisect.bisect_left(names, path.name)
        there = at < len(names) and names[at] == path.name
        if gone and there:
            del names[at]
        elif not gone and not there:
            names.insert(at, path.name)


def _hidden_names(folder: Path, prefixes: tuple[str, ...]) -> list[str] | None:
    """The names in ``folder`` that begin with one of ``prefixes`` (each begins with a dot),
    sorted: read from the folder, or, where it is filled as a batch, from the names its
    first look kept (:func:`batch_of_writes`). None where the folder cannot be read."""
    key = os.path.abspath(folder)
    with _BATCH_LOCK:
        batch = _BATCHES.get(key)
        names = None if batch is None else batch[1]
    if batch is not None and names is None:
        try:
            with os.scandir(folder) as scan:
                names = sorted(e.name for e in scan if e.name.startswith("."))
        except OSError:  # (no folder yet: looked at again by the next write)
            return None
        with _BATCH_LOCK:
            if batch[1] is None:
                batch[1] = names
            names = batch[1]
    if names is None:
        try:
            with os.scandir(folder) as scan:
                return sorted(e.name for e in scan if e.name.startswith(prefixes))
        except OSError:
            return None
    found = []
    with _BATCH_LOCK:
        for prefix in prefixes:
            at = bisect.bisect_left(names, prefix)
            while at < len(names) and names[at].startswith(prefix):
                found.append(names[at])
                at += 1
    return sorted(set(found))


def staged_claim(path: str | os.PathLike) -> Claim | None:
    """The claim of this process, not yet released, whose ``.tmp`` is ``path`` (a writer
    asked to write into another write's temporary: Export's), else None."""
    return _CLAIMS.get(Path(path))


def undo_merge(target: Path, old: Path, staged: Path, adds: list[str]) -> tuple[int, int]:
    """Undo a merge of ``staged``'s files into the folder ``target`` (:meth:`Claim.
    record_merge`), however far it came: each of ``adds`` (the names it adds) that is in
    ``target`` and no longer in ``staged`` (put in) is removed, then each file in ``old``
    (moved aside) put back, and ``old`` removed. Returns how many were put back and
    removed. OSError where one cannot be (what is left stays in ``old``)."""
    removed = 0
    for name in adds:
        if _there(target / name) and not _there(staged / name):
            _remove(target / name)
            removed += 1
    back = 0
    if _there(old):
        for name in sorted(os.listdir(old)):
            os.replace(old / name, target / name)
            back += 1
        old.rmdir()
    return back, removed


def _forget(token: str) -> None:
    """One claim of ``token`` released (or never made)."""
    with _LIVE_LOCK:
        _LIVE[token] -= 1
        if _LIVE[token] <= 0:
            del _LIVE[token]


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` of this computer runs, as far as this process can see. Not
    POSIX: True (``os.kill(pid, 0)`` would end it)."""
    if pid == os.getpid() or os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # (PermissionError: another user's process)
        return True
    return True


def _gone(lock: Path, pid: int, by_pid: bool = True) -> tuple[bool, int | None]:
    """Whether the write whose lock file is ``lock`` (its pid ``pid``, of this computer) is
    over, and the lock file, locked by this process, that says so (None where there is none
    or it cannot be locked: then it is over where ``pid`` does not run). Closing it unlocks
    it. An empty lock file (a claim writes into it once it is locked) of a ``pid`` that runs
    is one being made: not over. A write of this process is over once it released its claim
    (a write that failed or was interrupted, Ctrl+C in a notebook, left its ``.old``); one
    still claimed never is (it may run in another thread). Another token of this process's
    pid (:func:`_own`: an earlier process that had the same pid) is judged by its lock file,
    its pid taken for one that does not run. ``by_pid`` False: where the lock file cannot
    tell, not over (a write of this machine under its former name, whose pid may be another
    process's now)."""
    if _own(lock.name.rsplit(".", 2)[-2], pid):
        with _LIVE_LOCK:
            if lock.name.rsplit(".", 2)[-2] in _LIVE:
                return False, None
    # (whether the writer's process runs: this process's pid is no longer the writer's,
    # whether the write was this process's, released, or an earlier process's of that pid)
    runs = pid != os.getpid() and _pid_alive(pid)
    try:
        fd: int | None = os.open(lock, os.O_RDONLY)
    except FileNotFoundError:
        fd = None
    except OSError:  # (another user's, not readable: kept)
        return False, None
    locked = try_lock(fd) if fd is not None else None
    if locked is True:
        assert fd is not None
        if os.fstat(fd).st_size == 0 and runs:  # (made, not yet locked)
            os.close(fd)
            return False, None
        return True, fd
    if fd is not None:
        os.close(fd)
    if not by_pid:  # (a pid of this machine under its old name: judged by the lock alone)
        return False, None
    # (this process's released write, where locks cannot tell: over)
    return (locked is None and not runs), None


def _token_pattern(name: str) -> re.Pattern:
    return re.compile(
        rf"\.{re.escape(name)}\.(?P<token>(?P<host>[A-Za-z0-9_]+)-(?P<pid>\d+)-[0-9a-f]{{8}})"
        r"\.(?P<kind>tmp|old|del|lock|merge|probe)"
    )


def _older_pattern(name: str) -> re.Pattern:
    """The hidden names of writes by versions before the token held the pid: ``.NAME.tmp``
    (zarr labels), ``.NAME.XXXXXXXX.tmp`` (atomic_path's), ``.NAME.XXXXXXXX.old`` (Export's),
    ``.NAME.partial-PID`` (a CTC result's, write_ctc's)."""
    return re.compile(rf"\.{re.escape(name)}((\.[A-Za-z0-9_]{{8}})?\.(tmp|old)|\.partial-[0-9]+)")


def recover_leftovers(target: str | os.PathLike, warn: bool = True) -> str | None:
    """Undo what writes of ``target`` killed before they finished left beside it, and say
    so in one line (a UserWarning with ``warn``; returned; None where there was nothing).

    Only the hidden files of a write that is over are touched (of this computer, whose lock
    file this process can lock, or, where there is none or the file system has no locks,
    whose pid does not run): never a write still running, in this process or another. Of
    such a write, ``.TARGET.TOKEN.old`` is put back as ``TARGET`` where ``TARGET`` is missing
    (the kill came between the two renames: it is the earlier output); where ``TARGET`` is
    there (the new one, put in place) it is kept and named, for the user to remove or put
    back (with its lock file, unlocked, which names it this machine's where it was written
    under a former host name; both removed by the first recovery after it is gone). Its
    ``.tmp`` (an output never put in place) and ``.del`` (the earlier output being removed)
    are removed, with the temporaries of a writer inside it. Hidden files of another
    computer's write, and those an older version named without its pid (which cannot be
    told from a running write), are named, not touched. Reads the folder for the hidden names
    of ``target``, once a batch where it is filled as one (:func:`batch_of_writes`)."""
    target = Path(target)
    folder = target.parent
    prefix = f".{target.name}."  # (every hidden name of it, and a writer's inside its .tmp)
    names = _hidden_names(folder, (prefix, f".{prefix}"))
    if not names:  # (no folder yet, or nothing left in it)
        return None
    entries = [folder / name for name in names if name.startswith(prefix)]
    if not entries:
        return None
    nested = [name for name in names if not name.startswith(prefix)]
    mine = _token_pattern(target.name)
    older = _older_pattern(target.name)
    tokens: dict[str, tuple[str, int]] = {}
    untold: list[str] = []
    for entry in entries:
        match = mine.fullmatch(entry.name)
        if match is not None:
            if match["kind"] == "probe" and _own(match["token"], int(match["pid"])):
                continue  # (a probe of this process runs: it removes its file itself)
            tokens[match["token"]] = (match["host"], int(match["pid"]))
        elif older.fullmatch(entry.name) and _there(entry):  # (a batch's kept name: there?)
            untold.append(entry.name)
    restored, removed, kept, elsewhere = "", [], [], []
    merged: list[str] = []  # (what was done of writes that merged into the folder)
    removed_since: list[str] = []  # (.old of a write that put its output in place)
    host = _host()
    for token, (its_host, pid) in tokens.items():
        lock = _beside(target, token, "lock")
        renamed = its_host != host and _this_machine(lock)  # (this machine, named before)
        if its_host != host and not renamed:
            elsewhere += [p.name for p in (_beside(target, token, k) for k in KINDS) if _there(p)]
            continue
        gone, fd = _gone(lock, pid, by_pid=not renamed)
        if not gone:
            continue
        try:
            old = _beside(target, token, "old")
            merge = _beside(target, token, "merge")
            adds = _merge_adds(merge)
            if adds is not None and _there(old) and target.is_dir():
                # (killed while it merged its files into the folder: undone, whole)
                try:
                    back, gone_ = undo_merge(target, old, _beside(target, token, "tmp"), adds)
                except OSError as exc:
                    merged.append(
                        f"could not put back all the earlier files of {target.name} that "
                        f"it had moved aside ({exc.strerror or exc}): those left are in "
                        f"{old.name} (move them back into {target.name}, replacing those "
                        "there)"
                    )
                else:
                    merged.append(_undone(target.name, back, gone_))
            elif _there(old):
                # (its .tmp gone: its output was put in place, and the target missing since
                # was removed on purpose, unless the write was this process's, which failed
                # before it and released its claim; not an earlier process's of its pid)
                placed = not _there(_beside(target, token, "tmp")) and not _own(token, pid)
                if placed and not _there(target):
                    removed_since.append(old.name)
                elif not _there(target):
                    try:  # (never over a target made meanwhile by another writer)
                        rename_no_replace(old, target)
                        restored = old.name
                    except FileNotFoundError:  # (put back meanwhile by another recovery)
                        pass
                    except FileExistsError:
                        kept.append(old.name)
                elif _merged_aside(old, target):  # (a merge with no record: not the folder)
                    merged.append(
                        f"kept {old.name}: files of an earlier result in {target.name}, moved "
                        f"aside by a write killed while it merged a new one in ({target.name} "
                        "may hold files of both: move them back into it, replacing those "
                        "there, to put the earlier ones back)"
                    )
                else:
                    kept.append(old.name)
            for kind in ("tmp", "del", "probe"):
                leftover = _beside(target, token, kind)
                if _there(leftover):
                    _remove(leftover)
                    removed.append(leftover.name)
                # (a writer's own temporaries of it: ..TARGET.TOKEN.tmp.*)
                for name in nested:
                    if name.startswith(f".{leftover.name}."):
                        _remove(folder / name)
            if not _there(old):  # (the record of a merge and the lock file: kept, unlocked,
                # while its .old is, which a lock of a former host name then still names as
                # this machine's, :func:`_this_machine`)
                for record in (merge, lock):
                    with contextlib.suppress(OSError):
                        record.unlink()
        finally:
            if fd is not None:
                os.close(fd)
    said = []
    if restored:
        said.append(f"put the earlier {target.name} back from {restored}")
    said += merged
    if removed:
        said.append(f"removed {', '.join(removed)}")
    if kept:
        said.append(
            f"kept {', '.join(kept)}: the earlier {target.name}, which the new one replaced "
            "(remove it, or rename it to put it back)"
        )
    if removed_since:
        said.append(
            f"kept {', '.join(removed_since)}: the earlier {target.name}, which a killed "
            f"write replaced; {target.name} was removed since, so it is not put back (remove "
            f"it, or rename it {target.name} to put it back)"
        )
    if elsewhere:
        said.append(f"left {', '.join(elsewhere)} alone (written from another computer)")
    if untold:
        said.append(
            f"left {', '.join(untold)} alone (an older version's: remove it if no write of "
            f"{target.name} is running)"
        )
    if not said:
        return None
    if restored or removed or kept or merged or removed_since:
        head = f"{target}: a write killed before it finished left files beside it; "
    else:
        head = f"{target}: hidden files of another write beside it; "
    line = head + "; ".join(said)
    if warn:
        warnings.warn(line, UserWarning, stacklevel=2)
    return line


def _files(count: int) -> str:
    return f"{count} file" + ("" if count == 1 else "s")


def _undone(name: str, back: int, removed: int) -> str:
    """What undoing a killed merge into the folder ``name`` did, in words."""
    if not (back or removed):
        return f"it had not begun to merge a new result into {name}: {name} is as it was"
    done = [f"put back the {_files(back)} of {name} it had moved aside"] if back else []
    done += [f"removed the {_files(removed)} it had added"] if removed else []
    return " and ".join(done) + f" (it was merging a new result in): {name} is as it was"


#: the files of a Cell Tracking Challenge result (:mod:`tessella.engine.tracking._ctc`)
_RESULT_FILE = re.compile(r"mask[0-9]+\.tiff?|res_track\.txt", re.IGNORECASE)


def _merged_aside(old: Path, target: Path) -> bool:
    """Whether the folder ``old`` beside the folder ``target`` holds files of a CTC result
    moved aside one by one (a merge into ``target`` with no record of it, as Export made
    before writes recorded their merges), rather than the whole earlier ``target``."""
    if not (old.is_dir() and target.is_dir()) or old.is_symlink():
        return False
    try:
        names = os.listdir(old)
    except OSError:
        return False
    return bool(names) and all(_RESULT_FILE.fullmatch(name) for name in names)


def _merge_adds(merge: Path) -> list[str] | None:
    """The names a merge into the folder adds (:meth:`Claim.record_merge`), None where
    there is no record of one (or it cannot be read)."""
    try:
        adds = json.loads(merge.read_text())["adds"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return [str(name) for name in adds if "/" not in str(name) and str(name) not in ("", ".", "..")]


def find_leftovers(folder: str | os.PathLike) -> list[tuple[Path, str]]:
    """The hidden files and folders of writes in ``folder`` (not inside its subfolders):
    ``(path, state)``, ``state`` one of ``"running"`` (a write of this computer still
    running), ``"killed"`` (one that is over: the next write of its target recovers it,
    :func:`recover_leftovers`), ``"another computer"``, ``"older version"`` (a name without
    the pid). Nothing is changed."""
    folder = Path(folder)
    pattern = re.compile(
        r"\.(?P<name>.+)\.(?P<token>(?P<host>[A-Za-z0-9_]+)-(?P<pid>\d+)-[0-9a-f]{8})"
        r"\.(?P<kind>tmp|old|del|lock|merge|probe)"
    )
    older = re.compile(r"\.(?P<name>.+?)((\.[A-Za-z0-9_]{8})?\.(tmp|old)|\.partial-[0-9]+)")
    found = []
    host = _host()
    for entry in sorted(folder.iterdir()):
        match = pattern.fullmatch(entry.name)
        if match is not None:
            lock = folder / f".{match['name']}.{match['token']}.lock"
            renamed = match["host"] != host and _this_machine(lock)
            if match["host"] != host and not renamed:
                state = "another computer"
            else:
                gone, fd = _gone(lock, int(match["pid"]), by_pid=not renamed)
                if fd is not None:
                    os.close(fd)
                state = "killed" if gone else "running"
            if match["kind"] == "probe" and (
                state == "running" or _own(match["token"], int(match["pid"]))
            ):
                continue  # (a probe of a running process: no write's, no leftover)
            found.append((entry, state))
        elif older.fullmatch(entry.name) and not entry.name.startswith(".."):
            found.append((entry, "older version"))
    return found
