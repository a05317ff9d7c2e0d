"""What this process knows of the jobs it runs, between their database writes.

Inside an atomic job on SQLite no other connection can write, so the progress
bar of the embedded worker (same process as the web server) reads the job's
progress from here, and a cancel reaches the job here without waiting for the
write lock. A process that stops asks its jobs to go back to the queue at their
next checkpoint. No model is imported: the Celery worker's hooks use this
before Django is set up.
"""

from __future__ import annotations

import threading

# What the running jobs of this process report between database writes. Inside
# an atomic job on SQLite no other connection can write, so the progress bar of
# the embedded worker (same process as the web server) reads it from here.
_live_lock = threading.Lock()
_live_progress: dict[int, tuple[int, int]] = {}
_live_cancel: set[int] = set()
_live_handback: set[int] = set()
# Set once, for good, when this whole process stops (a `patron worker` that got SIGTERM).
# A plain flag: a signal handler sets it while the job thread may hold `_live_lock`.
_process_stopping = False


def live_progress(job_id: int) -> tuple[int, int] | None:
    with _live_lock:
        return _live_progress.get(job_id)


def request_live_cancel(job_id: int) -> bool:
    """Ask a job running in this process to stop; False when it is not running here."""
    with _live_lock:
        if job_id not in _live_progress:
            return False
        _live_cancel.add(job_id)
        return True


def request_live_handback() -> list[int]:
    """Ask every job running in this process to stop at its next checkpoint and go back
    to the queue (the process is shutting down); returns their ids."""
    with _live_lock:
        _live_handback.update(_live_progress)
        return sorted(_live_progress)


def request_process_handback() -> None:
    """This process is stopping: every job it runs goes back to the queue at its next
    checkpoint, and it claims no new job. Safe to call from a signal handler."""
    global _process_stopping
    _process_stopping = True


def process_stopping() -> bool:
    return _process_stopping


def running_here() -> bool:
    """Whether a job is running in this process."""
    return bool(_live_progress)


def live_start(job_id: int) -> None:
    with _live_lock:
        _live_progress[job_id] = (0, 0)
        _live_cancel.discard(job_id)
        _live_handback.discard(job_id)


def live_end(job_id: int) -> None:
    with _live_lock:
        _live_progress.pop(job_id, None)
        _live_cancel.discard(job_id)
        _live_handback.discard(job_id)


def report_progress(job_id: int, done: int, total: int) -> None:
    with _live_lock:
        if job_id in _live_progress:
            _live_progress[job_id] = (done, total)


def stop_asked(job_id: int) -> str:
    """ "handback" when the job must go back to the queue, "cancel" when someone asked it
    to stop, "" otherwise (as far as this process knows)."""
    if _process_stopping:
        return "handback"
    with _live_lock:
        if job_id in _live_handback:
            return "handback"
        if job_id in _live_cancel:
            return "cancel"
    return ""
