"""The history on disk: jobs in SQLite (WAL), their recordings as files. The one place that knows the schema.

A recording is on disk (temporary file, fsync, atomic rename) and its job row is
committed before transcription starts, so a crash or a kill loses nothing: the next
start finds the job still ``queued``/``running`` and marks it ``interrupted``.

The schema is versioned: ``MIGRATIONS[n]`` takes a database from ``PRAGMA user_version``
n to n + 1, each in one transaction, so an older Hush's history opens in a newer one.
Rows are read back tolerantly: an option or segment field this version does not know,
or one an older version did not write, never makes the history unreadable.

A transcript reads as corrected: a person's corrections (``corrections`` column) replace
their segments' text and words, the full text and the search index follow them, and the
model's own segments stay untouched beside them for a revert. Speakers alike: the labeller's
speaker of each segment is in ``segments``, a person's names, merges and moves in ``speakers``;
the search finds a transcript by its speakers' names too.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from backend.transcript import Correction, Options, Partial, Segment, SpeakerEdits, Transcript, Word


class Status(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"


ACTIVE = (Status.QUEUED, Status.RUNNING)

#: Each entry takes the schema from its index (``PRAGMA user_version``) to the next. Never edit one
#: that has shipped: add the next. Version 0 -> 1 creates what release 0.1.0 created without
#: numbering it, hence ``IF NOT EXISTS``: its databases are at version 0 with the tables present.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE IF NOT EXISTS jobs (
        id TEXT PRIMARY KEY,
        created REAL NOT NULL,
        updated REAL NOT NULL,
        filename TEXT NOT NULL,
        audio TEXT NOT NULL,
        status TEXT NOT NULL,
        options TEXT NOT NULL,
        error TEXT,
        text TEXT,
        language TEXT,
        duration REAL,
        segments TEXT,
        model TEXT,
        timings TEXT
    );
    CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created DESC);
    CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5 (id UNINDEXED, filename, text);
    """,
    # 1 -> 2: a person's corrections of segments, ``{"index": {"text", "words"}}``, kept beside the
    # model's segments (which stay as it wrote them) so that each one can be reverted.
    "ALTER TABLE jobs ADD COLUMN corrections TEXT;",
    # 2 -> 3: what a running long job has finished so far (``transcript.Partial``), so that after a crash
    # or a quit "Transcribe again" goes on from there.
    "ALTER TABLE jobs ADD COLUMN partial TEXT;",
    # 3 -> 4: a person's changes to the labelled speakers (``transcript.SpeakerEdits``: names, merges,
    # segments moved), kept beside the labeller's speakers in ``segments`` so that each can be undone.
    "ALTER TABLE jobs ADD COLUMN speakers TEXT;",
    # 4 -> 5: whether the recording was a dictation (spoken into another app through the shortcut or
    # ``hush dictate``), so the history can mark it and offer to type it again.
    "ALTER TABLE jobs ADD COLUMN dictation INTEGER NOT NULL DEFAULT 0;",
]
SCHEMA_VERSION = len(MIGRATIONS)


class NewerDatabase(RuntimeError):
    """The history was written by a newer Hush; this one does not know its schema and will not touch it."""


def migrate(db: sqlite3.Connection) -> int:
    """Bring ``db`` to ``SCHEMA_VERSION``, one migration per transaction; returns the version it had."""
    found = db.execute("PRAGMA user_version").fetchone()[0]
    if found > SCHEMA_VERSION:
        raise NewerDatabase(
            f"This history was written by a newer version of Hush (schema {found}, this one knows {SCHEMA_VERSION}). "
            "Update Hush, or point HUSH_DATA_DIR at another folder."
        )
    for version in range(found, SCHEMA_VERSION):
        # executescript commits first, so BEGIN/COMMIT go inside the script to keep each step atomic.
        db.executescript(f"BEGIN; {MIGRATIONS[version]}; PRAGMA user_version = {version + 1}; COMMIT;")
    return found


#: Suffixes worth keeping on a stored recording (players pick the codec by it); never a path.
SAFE_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,5}")


@dataclass
class Job:
    id: str
    created: float
    updated: float
    filename: str
    audio: Path
    status: Status
    options: Options
    error: str | None = None
    transcript: Transcript | None = None
    #: Spoken into another app (dictation), not recorded or imported in Hush's window.
    dictation: bool = False


def display_name(filename: str | None) -> str:
    """The last part of a client's file name, for showing only: ``../../etc/passwd`` → ``passwd``."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable()).strip()[:200]
    return name or "recording"


def match_expression(query: str) -> str:
    """A user's words as an FTS5 query: every word must appear (as a prefix); no FTS syntax."""
    words = re.findall(r"\w+", query)
    return " ".join('"' + word.replace('"', '""') + '"*' for word in words)


class Store:
    """Thread-safe access to the jobs table and the recordings folder."""

    def __init__(self, database: Path, recordings: Path) -> None:
        self.recordings = recordings
        recordings.mkdir(parents=True, exist_ok=True)
        database.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(database, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            migrate(self._db)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- writing -------------------------------------------------------------------
    def add(self, source: BinaryIO, filename: str | None, options: Options, dictation: bool = False) -> Job:
        """Copy the upload into the recordings folder durably, then commit a ``queued`` job for it
        (``dictation``: spoken into another app)."""
        job_id = uuid.uuid4().hex
        suffix = Path(display_name(filename)).suffix
        audio = self.recordings / (job_id + (suffix.lower() if SAFE_SUFFIX.fullmatch(suffix) else ""))
        partial = audio.with_name(audio.name + ".partial")
        with partial.open("wb") as out:
            shutil.copyfileobj(source, out, 1024 * 1024)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, audio)
        sync_folder(self.recordings)
        now = time.time()
        job = Job(job_id, now, now, display_name(filename), audio, Status.QUEUED, options, dictation=dictation)
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO jobs (id, created, updated, filename, audio, status, options, dictation)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (job.id, now, now, job.filename, audio.name, job.status, json.dumps(options.to_dict()), int(dictation)),
            )
            self._db.execute("INSERT INTO search (id, filename, text) VALUES (?, ?, '')", (job.id, job.filename))
        return job

    def set_status(self, job_id: str, status: Status, error: str | None = None) -> None:
        with self._lock, self._db:
            self._db.execute(
                "UPDATE jobs SET status = ?, error = ?, updated = ? WHERE id = ?", (status, error, time.time(), job_id)
            )

    def finish(self, job_id: str, transcript: Transcript) -> None:
        """Store the transcript and mark the job ``done`` in one transaction (corrections of an earlier
        transcript of it, if any, no longer fit and go)."""
        segments = [s.to_dict() for s in transcript.segments]
        with self._lock, self._db:
            self._db.execute(
                "UPDATE jobs SET status = ?, error = NULL, updated = ?, text = ?, language = ?, duration = ?,"
                " segments = ?, model = ?, timings = ?, corrections = NULL, speakers = NULL WHERE id = ?",
                (
                    Status.DONE,
                    time.time(),
                    transcript.text,
                    transcript.language,
                    transcript.duration,
                    json.dumps(segments),
                    transcript.model,
                    json.dumps(transcript.timings),
                    job_id,
                ),
            )
            self._db.execute("UPDATE search SET text = ? WHERE id = ?", (searchable(transcript), job_id))

    def correct(self, job_id: str, index: int, correction: Correction | None) -> Job | None:
        """Keep ``correction`` as segment ``index``'s text (``None``: go back to the model's) and index
        the corrected text for search; the job as it now reads, ``None`` if it is gone."""

        def change(corrections: dict) -> bool:
            if correction is None:
                return corrections.pop(str(index), None) is not None
            corrections[str(index)] = correction.to_dict()
            return True

        return self._change_corrections(job_id, change)

    def place_words(self, job_id: str, index: int, text: str, words: tuple[Word, ...]) -> Job | None:
        """Give segment ``index``'s correction its words, if its text is still ``text`` (a later
        correction may have replaced it meanwhile); the job as it now reads."""

        def change(corrections: dict) -> bool:
            current = Correction.from_dict(corrections.get(str(index)))
            if current is None or current.text != text:
                return False
            corrections[str(index)] = Correction(text, words).to_dict()
            return True

        return self._change_corrections(job_id, change)

    def _change_corrections(self, job_id: str, change: Callable[[dict], bool]) -> Job | None:
        """Apply ``change`` to a job's corrections and re-index its text, in one transaction."""
        with self._lock, self._db:
            row = self._db.execute("SELECT corrections FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return None
            corrections = loads(row["corrections"], {})
            if change(corrections):
                self._db.execute(
                    "UPDATE jobs SET corrections = ?, updated = ? WHERE id = ?",
                    (json.dumps(corrections, ensure_ascii=False) if corrections else None, time.time(), job_id),
                )
            job = self._job(self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone())
            if job.transcript is not None:
                self._db.execute("UPDATE search SET text = ? WHERE id = ?", (searchable(job.transcript), job_id))
        return job

    def edit_speakers(self, job_id: str, change: Callable[[SpeakerEdits], SpeakerEdits]) -> Job | None:
        """Apply ``change`` to a job's speaker edits and re-index its text with the names, in one
        transaction; the job as it now reads, ``None`` if it is gone."""
        with self._lock, self._db:
            row = self._db.execute("SELECT speakers FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return None
            edits = change(SpeakerEdits.from_dict(loads(row["speakers"], {})))
            value = None if edits.empty else json.dumps(edits.to_dict(), ensure_ascii=False)
            self._db.execute("UPDATE jobs SET speakers = ?, updated = ? WHERE id = ?", (value, time.time(), job_id))
            job = self._job(self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone())
            if job.transcript is not None:
                self._db.execute("UPDATE search SET text = ? WHERE id = ?", (searchable(job.transcript), job_id))
        return job

    def relabel(self, job_id: str, segments: list[Segment], corrections: dict[int, Correction]) -> Job | None:
        """A finished job's segments labelled (again) with speakers, its corrections at the segments'
        new places; a person's earlier speaker edits no longer fit and go. The job as it now reads."""
        stored = {str(i): c.to_dict() for i, c in corrections.items()}
        with self._lock, self._db:
            self._db.execute(
                "UPDATE jobs SET segments = ?, corrections = ?, speakers = NULL, updated = ? WHERE id = ?",
                (
                    json.dumps([s.to_dict() for s in segments]),
                    json.dumps(stored, ensure_ascii=False) if stored else None,
                    time.time(),
                    job_id,
                ),
            )
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            job = self._job(row) if row else None
            if job is not None and job.transcript is not None:
                self._db.execute("UPDATE search SET text = ? WHERE id = ?", (searchable(job.transcript), job_id))
        return job

    def save_partial(self, job_id: str, partial: Partial | None) -> None:
        """Keep what a running job has finished so far (``None``: forget it, the job starts over)."""
        value = None if partial is None else json.dumps(partial.to_dict())
        with self._lock, self._db:
            self._db.execute("UPDATE jobs SET partial = ? WHERE id = ?", (value, job_id))

    def partial(self, job_id: str) -> Partial | None:
        """What an earlier run of the job finished, if anything readable."""
        with self._lock:
            row = self._db.execute("SELECT partial FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return Partial.from_dict(loads(row[0], {})) if row and row[0] else None

    def interrupt_unfinished(self) -> int:
        """At start-up: jobs left queued or running by a crash or kill become ``interrupted``."""
        with self._lock, self._db:
            cursor = self._db.execute(
                "UPDATE jobs SET status = ?, error = ?, updated = ? WHERE status IN (?, ?)",
                (Status.INTERRUPTED, "Hush stopped before this transcription finished.", time.time(), *ACTIVE),
            )
            return cursor.rowcount

    def delete(self, job_id: str) -> bool:
        """Remove the job, its search entry and its recording; ``False`` if there was none."""
        job = self.get(job_id)
        if job is None:
            return False
        with self._lock, self._db:
            self._db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
            self._db.execute("DELETE FROM search WHERE id = ?", (job_id,))
        job.audio.unlink(missing_ok=True)
        return True

    # -- reading -------------------------------------------------------------------
    def get(self, job_id: str) -> Job | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return self._job(row) if row else None

    def model_segments(self, job_id: str) -> tuple[list[Segment], dict[int, Correction]]:
        """A job's segments as the model wrote them, and a person's corrections of them by index."""
        with self._lock:
            row = self._db.execute("SELECT segments, corrections FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            return [], {}
        segments = (Segment.from_dict(s) for s in loads(row["segments"], []))
        return [s for s in segments if s is not None], corrections(row["corrections"])

    def speaker_edits(self, job_id: str) -> SpeakerEdits:
        """A person's changes to a job's speakers."""
        with self._lock:
            row = self._db.execute("SELECT speakers FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return SpeakerEdits.from_dict(loads(row["speakers"] if row else None, {}))

    def list(self, query: str = "", limit: int = 50, offset: int = 0) -> tuple[list[Job], int]:
        """Newest first; ``query`` searches transcripts and file names. Returns a page and the total.

        What a list shows: the transcripts' text without their segments, which are read only
        where a correction changes the text (a long recording's segments and words are slow to read
        for every row of a page); ``get`` gives the whole job."""
        expression = match_expression(query)
        where, args = "", []
        if expression:
            where, args = "WHERE id IN (SELECT id FROM search WHERE search MATCH ?)", [expression]
        columns = (
            "id, created, updated, filename, audio, status, options, error, text, language, duration, model, timings,"
            " corrections, speakers, dictation, CASE WHEN corrections IS NULL THEN NULL ELSE segments END AS segments"
        )
        with self._lock:
            total = self._db.execute(f"SELECT COUNT(*) FROM jobs {where}", args).fetchone()[0]
            rows = self._db.execute(
                f"SELECT {columns} FROM jobs {where} ORDER BY created DESC, rowid DESC LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
        return [self._job(row) for row in rows], total

    def _job(self, row: sqlite3.Row) -> Job:
        status = Status(row["status"]) if row["status"] in Status.__members__.values() else Status.FAILED
        transcript = None
        if status is Status.DONE:
            segments = (Segment.from_dict(s) for s in loads(row["segments"], []))
            transcript = Transcript(
                text=row["text"] or "",
                language=row["language"],
                duration=row["duration"] or 0.0,
                segments=[s for s in segments if s is not None],
                model=row["model"] or "",
                timings=loads(row["timings"], {}),
            ).corrected(corrections(row["corrections"]))
            transcript = transcript.relabelled(SpeakerEdits.from_dict(loads(row["speakers"], {})))
        return Job(
            id=row["id"],
            created=row["created"],
            updated=row["updated"],
            filename=row["filename"],
            audio=self.recordings / row["audio"],
            status=status,
            options=Options.from_dict(loads(row["options"], {})),
            error=row["error"],
            transcript=transcript,
            dictation=bool(row["dictation"]),
        )


def searchable(transcript: Transcript) -> str:
    """What the search index holds of a transcript: its text and the names a person gave its speakers."""
    return " ".join([transcript.text, *transcript.speakers.values()])


def corrections(text: str | None) -> dict[int, Correction]:
    """A job's stored corrections by segment index; unreadable entries are left out."""
    found = {}
    for key, value in loads(text, {}).items():
        correction = Correction.from_dict(value)
        if key.isdigit() and correction is not None:
            found[int(key)] = correction
    return found


def loads(text: str | None, default: list | dict) -> list | dict:
    """A JSON column, or ``default`` where it is empty, damaged or of another shape."""
    try:
        value = json.loads(text or "null")
    except ValueError:
        return default
    return value if isinstance(value, type(default)) else default


def sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX); a no-op where folders cannot be opened (Windows)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
