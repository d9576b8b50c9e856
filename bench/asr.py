"""Speech recognition: word error rate and real-time factor on clips spoken by espeak-ng.

    .venv/bin/python bench/asr.py [--voices en-us,en-gb,en-gb-x-rp] [--speeds 150,180]
                                  [--sentences 12] [--threads N]
    .venv/bin/python bench/asr.py --long 60     # memory of a 60-minute episode instead

Every English sentence below is spoken by espeak-ng (Debian's; apt-get install espeak-ng)
in each voice at each speed, into a WAV file, then transcribed by
``podsight.content.asr.transcribe_file`` exactly as an episode is (decode, voice-activity
filter, tiny.en int8, greedy, word timestamps). It prints, per voice and speed and in all:
the word error rate (word edits / reference words, case and punctuation ignored), audio
seconds, wall seconds (decoding + recognition, the model already loaded) and the
real-time factor (wall / audio; below 1 is faster than real time), and the model's mean
word confidence. Then the same for clips in other languages declared as unknown, to show
the confidence guard (``PODSIGHT_ASR_MIN_CONFIDENCE``) at work: each should be refused.

``--long MINUTES`` measures memory instead: one WAV of that many minutes (a sentence every
minute, silence between, so recognition itself stays cheap while the audio is long) is
transcribed in a fresh process, once in :data:`~podsight.content.asr.WINDOW_S` windows (as
shipped) and once as a single window, and each process's resident memory is printed after
loading the model and at its peak.
Not a test: figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

SENTENCES = [
    "Welcome back to the show. Today we are talking about sleep and memory.",
    "Our guest is a scientist who studies how the brain learns new skills.",
    "Before we start, this episode is brought to you by a coffee company.",
    "The ocean covers most of the planet, yet we have mapped only a small part.",
    "Many listeners asked how to build a habit that lasts longer than a week.",
    "Thank you for listening, and please share the episode with a friend.",
    "The interest rate decision surprised investors and the market fell quickly.",
    "She grew up on a farm and later moved to the city to study music.",
    "Climate change is making summers hotter and storms more frequent.",
    "We will take a short break and come back with your questions.",
    "The team trained a small model on a laptop without any internet connection.",
    "History teaches us that empires rarely fall for a single reason.",
]
OTHER_LANGUAGES = {
    "es": "Los pódcasts son conversaciones grabadas que la gente escucha mientras viaja.",
    "de": "Podcasts sind aufgenommene Gespräche, die Menschen auf dem Weg zur Arbeit hören.",
    "fr": "Les podcasts sont des conversations enregistrées que l'on écoute en voyageant.",
    "it": "I podcast sono conversazioni registrate che la gente ascolta mentre viaggia.",
    "pt": "Os podcasts são conversas gravadas que as pessoas ouvem enquanto viajam.",
    "nl": "Podcasts zijn opgenomen gesprekken waar mensen naar luisteren onderweg.",
}


def speak(espeak: str, text: str, dest: Path, voice: str, speed: int) -> Path:
    subprocess.run(
        [espeak, "-v", voice, "-s", str(speed), "-w", str(dest), text],
        check=True,
        capture_output=True,
    )
    return dest


_CHILD = """
import json, resource, sys
from pathlib import Path
from podsight.bootstrap import setup_django
setup_django()
from podsight.content import asr
asr.get_speech_model()
loaded = int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) // 1024
outcome = asr.transcribe_file(Path(sys.argv[1]), language="en", max_seconds=1e9,
                              window_s=float(sys.argv[2]))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
segments = outcome.transcript.segments if outcome.transcript else []
print(json.dumps({"loaded_mb": loaded, "peak_mb": peak, "status": outcome.status,
                  "segments": len(segments), "text": " ".join(s.text for s in segments),
                  **outcome.details}))
"""


def long_episode(espeak: str, minutes: int, folder: Path, windows: list[float]) -> int:
    """Peak memory of one long recording, windowed and whole, each in its own process."""
    rate = 22050  # espeak-ng's
    path = folder / "long.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        for minute in range(minutes):
            clip = speak(espeak, SENTENCES[minute % len(SENTENCES)], folder / "s.wav",
                         "en-us", 160)  # fmt: skip
            with wave.open(str(clip)) as one:
                assert one.getframerate() == rate
                frames = one.readframes(one.getnframes())
            out.writeframes(frames)
            out.writeframes(b"\0\0" * max(rate * 60 - len(frames) // 2, 0))
    print(f"{minutes} min of audio ({path.stat().st_size / 1e6:.0f} MB WAV), a sentence a minute")
    print("\n| windows | resident after load MB | peak MB | audio s | wall s | segments | WER |")
    print("|---|---|---|---|---|---|---|")
    from podsight.bootstrap import setup_django

    setup_django()
    from podsight.content.asr import WINDOW_S, word_error_rate

    said = " ".join(SENTENCES[minute % len(SENTENCES)] for minute in range(minutes))
    runs = [(f"{w:.0f} s" + (" (shipped)" if w == WINDOW_S else ""), w) for w in windows]
    for label, window in runs or [(f"{WINDOW_S:.0f} s (shipped)", WINDOW_S), ("one, whole", 1e9)]:
        ran = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(window)],
                             capture_output=True, text=True, check=True)  # fmt: skip
        got = json.loads(ran.stdout.strip().splitlines()[-1])
        edits, words = word_error_rate(said, got["text"])
        print(f"| {label} | {got['loaded_mb']} | {got['peak_mb']} | {got['audio_s']:.0f} | "
              f"{got['wall_s']:.1f} | {got['segments']} | {edits / words:.3f} |")  # fmt: skip
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voices", default="en-us,en-gb,en-gb-x-rp")
    parser.add_argument("--speeds", default="150,180")
    parser.add_argument("--sentences", type=int, default=len(SENTENCES))
    parser.add_argument("--threads", type=int, default=0, help="default: PODSIGHT_ASR_THREADS")
    parser.add_argument("--long", type=int, default=0, metavar="MINUTES",
                        help="measure memory on one recording this long instead")  # fmt: skip
    parser.add_argument("--windows", default="", help="with --long: window lengths to try (s)")
    parser.add_argument("--beam", type=int, default=0, help="beam size (default: the module's)")
    parser.add_argument(
        "--temperatures", default="", help="e.g. 0,0.2,0.4,0.6,0.8,1 (default: the module's)"
    )
    args = parser.parse_args()
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        print("espeak-ng is not installed: apt-get install espeak-ng", file=sys.stderr)
        return 2
    if args.threads:
        os.environ["PODSIGHT_ASR_THREADS"] = str(args.threads)
    if args.long:
        with tempfile.TemporaryDirectory(prefix="podsight-bench-asr-") as folder:
            windows = [float(w) for w in args.windows.split(",") if w]
            return long_episode(espeak, args.long, Path(folder), windows)

    from podsight.bootstrap import setup_django

    setup_django()
    from podsight.content import asr

    started = time.perf_counter()
    model = asr.get_speech_model()
    if args.beam:
        model.beam_size = args.beam
    if args.temperatures:
        model.temperatures = tuple(float(t) for t in args.temperatures.split(","))
    print(
        f"model {model.name} ({model.version}), {model.compute_type}, {model.threads} threads, "
        f"beam {model.beam_size}, temperatures {model.temperatures}, "
        f"loaded in {time.perf_counter() - started:.2f} s; {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    sentences = SENTENCES[: args.sentences]
    rows = []
    totals = [0, 0, 0.0, 0.0]
    confidences: list[float] = []
    with tempfile.TemporaryDirectory(prefix="podsight-bench-asr-") as folder:
        for voice in args.voices.split(","):
            for speed in (int(s) for s in args.speeds.split(",")):
                edits = words = 0
                audio_s = wall_s = 0.0
                for i, text in enumerate(sentences):
                    path = speak(espeak, text, Path(folder) / f"{voice}-{speed}-{i}.wav",
                                 voice, speed)  # fmt: skip
                    outcome = asr.transcribe_file(path, language="en")
                    said = " ".join(s.text for s in outcome.transcript.segments) if (
                        outcome.transcript) else ""  # fmt: skip
                    e, n = asr.word_error_rate(text, said)
                    edits, words = edits + e, words + n
                    audio_s += outcome.details["audio_s"]
                    wall_s += outcome.details["wall_s"]
                    if outcome.details.get("confidence") is not None:
                        confidences.append(outcome.details["confidence"])
                rows.append((voice, speed, edits, words, audio_s, wall_s))
                for k, v in enumerate((edits, words, audio_s, wall_s)):
                    totals[k] += v
        print(f"\n{len(sentences)} sentences per voice and speed\n")
        print("| voice | speed (wpm) | WER | words | audio s | wall s | RTF |")
        print("|---|---|---|---|---|---|---|")
        for voice, speed, e, n, a, w in rows:
            print(f"| {voice} | {speed} | {e / n:.3f} | {n} | {a:.1f} | {w:.2f} | {w / a:.3f} |")
        e, n, a, w = totals
        print(f"| **all** | | **{e / n:.3f}** | {n} | {a:.1f} | {w:.2f} | **{w / a:.3f}** |")
        print(
            f"\nEnglish clips' mean word confidence: min {min(confidences):.2f}, "
            f"mean {sum(confidences) / len(confidences):.2f}"
        )
        print("\nother languages, declared as unknown (the confidence guard):\n")
        print("| language | status | confidence | RTF |")
        print("|---|---|---|---|")
        for language, text in OTHER_LANGUAGES.items():
            path = speak(espeak, text, Path(folder) / f"{language}.wav", language, 160)
            outcome = asr.transcribe_file(path, language="")
            confidence = outcome.details.get("confidence")
            shown = "none" if confidence is None else f"{confidence:.2f}"
            rtf = outcome.details["real_time_factor"]
            print(f"| {language} | {outcome.status} | {shown} | {rtf:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
