"""The report of a benchmark whose figure must stay flat as the stored rows grow: its lines
printed and appended to a file under bench/out/, and the verdict on each database's growth
from the smallest size to the largest (the smallest size's figure is the baseline of the
same run)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


class GrowthReport:
    def __init__(self, out: Path, title: str) -> None:
        self.out, self.lines, self.failed = out, [], False
        self.say(title)

    def say(self, line: str) -> None:
        print(line, flush=True)
        self.lines.append(line)

    def over_sizes(
        self,
        databases: list[str],
        sizes: list[int],
        measure: Callable[[str, int], tuple[float, str]],
        what: str,
        limit: float,
    ) -> None:
        """For each database, `measure(database, size)` at every size (the figure judged and
        the words of its line), then the verdict on its growth."""
        for database in databases:
            figures = []
            for size in sizes:
                figure, words = measure(database, size)
                figures.append(figure)
                self.say(f"{database:<10} {size:>10,} answers  {words}")
            self.judge(database, sizes, figures, what, limit)

    def judge(
        self, database: str, sizes: list[int], figures: list[float], what: str, limit: float
    ) -> None:
        """`what` at the largest size over the smallest must be at most `limit`."""
        growth = figures[-1] / figures[0]
        flat = growth <= limit
        self.failed = self.failed or not flat
        self.say(
            f"{database:<10} {what} at {sizes[-1]:,} / at {sizes[0]:,} = {growth:.2f}"
            f"  (target <= {limit}: {'met' if flat else 'NOT MET'})"
        )

    def close(self) -> int:
        """Append the lines to the file; the exit status (1 when a growth was not met)."""
        self.out.parent.mkdir(parents=True, exist_ok=True)
        with self.out.open("a") as out:
            out.write("\n".join(self.lines) + "\n\n")
        return 1 if self.failed else 0
