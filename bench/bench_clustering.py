"""Benchmark ThemeModel on labelled feedback sets against a TF-IDF + k-means baseline.

Usage: python bench/bench_clustering.py --data ../shared/data [--scale 100000] [--skip-quality]

Quality: for each labelled set, ThemeModel with the number of themes chosen automatically,
scored with NMI, ARI, homogeneity and completeness against the labels. Unassigned texts
(-1) are scored as one extra group of their own, so leaving texts out is not free. The
baseline, measured in the same run, is TfidfVectorizer (word 1-2 grams, sklearn's default
tokeniser) + KMeans given the TRUE number of labels.

Scale: N comments built from all four sets' texts (see make_scale_corpus), fitted in a
child process so that its peak RSS (getrusage maxrss) is the model's alone.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing as mp
import random
import resource
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import (
    adjusted_rand_score,
    completeness_score,
    homogeneity_score,
    normalized_mutual_info_score,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ml import ThemeModel  # noqa: E402

SETS = {
    "banking77_test": "banking77_test.csv",
    "ru_city_complaints": "ru_city_complaints.csv",
    "zh_shopping_complaints": "zh_shopping_complaints.csv",
}
SCALE_SOURCES = [*SETS.values(), "banking77_train.csv"]
EMOJI = ["😡", "🙁", "👍", "🙏", "😤", "!!!", "???", "..."]


def read_set(path: Path) -> tuple[list[str], list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [r["label"] for r in rows]


def peak_rss_mib() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    # User + system time of this process and all its threads: on a machine shared with
    # other work, wall-clock time overstates the pipeline's own cost; this does not.
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def scores(y: list[str], labels: np.ndarray) -> dict[str, float]:
    return {
        "nmi": normalized_mutual_info_score(y, labels),
        "ari": adjusted_rand_score(y, labels),
        "hom": homogeneity_score(y, labels),
        "com": completeness_score(y, labels),
    }


def _quality_child(path: str, kwargs: dict, queue: mp.Queue) -> None:
    texts, y = read_set(Path(path))
    start, cpu = time.perf_counter(), cpu_seconds()
    model = ThemeModel(**kwargs).fit(texts)
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    row = scores(y, model.labels_)
    row.update(
        themes=len(model.themes_),
        unassigned=model.unassigned_share_,
        seconds=seconds,
        cpu=cpu,
        rss=peak_rss_mib(),
        labels=[t.label for t in model.themes_[:5]],
        k_scores=model.k_scores_,
    )
    base_start = time.perf_counter()
    X = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit_transform(texts)
    base = KMeans(len(set(y)), n_init=3, random_state=0).fit_predict(X)
    row["base"] = scores(y, base)
    row["base_seconds"] = time.perf_counter() - base_start
    row["true_k"] = len(set(y))
    queue.put(row)


def make_scale_corpus(data: Path, n: int, seed: int = 0) -> list[str]:
    """``n`` comments sampled with replacement from the four sets' ~25,500 texts.

    Each draw gets small random variations so that the corpus is not 4x exact duplicates:
    with probability 0.3 it is joined to a second random text (longer, mixed comments),
    0.3 a random word is dropped, 0.2 an emoji or repeated punctuation is appended, 0.2 a
    random number is appended, 0.1 it is upper-cased.
    """
    rng = random.Random(seed)
    pool: list[str] = []
    for name in SCALE_SOURCES:
        pool.extend(read_set(data / name)[0])
    out = []
    for _ in range(n):
        text = rng.choice(pool)
        if rng.random() < 0.3:
            text = text + " " + rng.choice(pool)
        if rng.random() < 0.3:
            words = text.split(" ")
            if len(words) > 3:
                del words[rng.randrange(len(words))]
                text = " ".join(words)
        if rng.random() < 0.2:
            text += " " + rng.choice(EMOJI)
        if rng.random() < 0.2:
            text += f" {rng.randint(1, 99999)}"
        if rng.random() < 0.1:
            text = text.upper()
        out.append(text)
    return out


def _scale_child(data: str, n: int, queue: mp.Queue) -> None:
    texts = make_scale_corpus(Path(data), n)
    before = peak_rss_mib()
    start, cpu = time.perf_counter(), cpu_seconds()
    stages: list[str] = []

    def progress(fraction: float, stage: str) -> None:
        stages.append(f"{stage} at {time.perf_counter() - start:.0f}s")

    model = ThemeModel(random_state=0).fit(texts, progress=progress)
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    queue.put(
        {
            "stages": ", ".join(stages),
            "seconds": seconds,
            "cpu": cpu,
            "rss": peak_rss_mib(),
            "rss_before": before,
            "themes": len(model.themes_),
            "unassigned": model.unassigned_share_,
        }
    )
    base_start = time.perf_counter()
    X = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit_transform(texts)
    KMeans(len(model.themes_) or 1, n_init=1, random_state=0).fit(X)
    queue.put({"base_seconds": time.perf_counter() - base_start})


def run_child(target, *args) -> list[dict]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    results = []
    while proc.is_alive() or not queue.empty():
        try:
            results.append(queue.get(timeout=1))
        except Exception:  # queue.Empty: keep waiting for the child
            continue
    proc.join()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with the CSV sets")
    parser.add_argument(
        "--scale", type=int, default=100_000, help="texts in the scale run (0: skip)"
    )
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--k-penalty", type=float, default=None)
    parser.add_argument("--sets", nargs="*", default=list(SETS), help="which labelled sets")
    parser.add_argument(
        "--random-state", type=int, default=0, help="ThemeModel seed for the labelled sets"
    )
    args = parser.parse_args()
    kwargs: dict = {"random_state": args.random_state}
    if args.k_penalty is not None:
        kwargs["k_penalty"] = args.k_penalty

    if not args.skip_quality:
        print("NMI/ARI/hom/com count unassigned texts (-1) as one extra group.")
        print("baseline: TF-IDF word 1-2 grams + KMeans with the TRUE number of labels.")
        header = (
            f"{'set':24} {'NMI':>5} {'ARI':>5} {'hom':>5} {'com':>5} {'themes':>9} "
            f"{'unassig':>7} {'time s':>7} {'CPU s':>6} {'RSS MiB':>7} | {'bNMI':>5} {'bARI':>5} "
            f"{'NMI x':>5} {'b s':>5}"
        )
        print(header)
        for name, file in SETS.items():
            if name not in args.sets:
                continue
            (r,) = run_child(_quality_child, str(args.data / file), kwargs)
            b = r["base"]
            print(
                f"{name:24} {r['nmi']:5.3f} {r['ari']:5.3f} {r['hom']:5.3f} {r['com']:5.3f} "
                f"{r['themes']:4d}/{r['true_k']:<4d} {r['unassigned']:7.1%} {r['seconds']:7.1f} "
                f"{r['cpu']:6.1f} {r['rss']:7.0f} | {b['nmi']:5.3f} {b['ari']:5.3f} "
                f"{r['nmi'] / b['nmi']:5.2f} "
                f"{r['base_seconds']:5.1f}",
                flush=True,
            )
            print(f"{'':24} largest themes: {' | '.join(r['labels'])}", flush=True)
            curve = " ".join(f"{k}:{v:.3f}" for k, v in sorted(r["k_scores"].items()))
            print(f"{'':24} silhouette - penalty*ln(k): {curve}", flush=True)
    if args.scale:
        results = run_child(_scale_child, str(args.data), args.scale)
        r = {k: v for d in results for k, v in d.items()}
        print(
            f"scale: {args.scale} texts fitted in {r['seconds']:.1f} s ({r['cpu']:.1f} CPU s), "
            f"peak RSS "
            f"{r['rss']:.0f} MiB (corpus alone {r['rss_before']:.0f} MiB), {r['themes']} themes, "
            f"unassigned {r['unassigned']:.1%}; baseline TF-IDF+KMeans(same k, n_init=1) "
            f"{r.get('base_seconds', float('nan')):.1f} s, ratio "
            f"{r['seconds'] / r.get('base_seconds', float('nan')):.2f}",
            flush=True,
        )
        print(f"scale stages (start times): {r['stages']}", flush=True)


if __name__ == "__main__":
    main()
